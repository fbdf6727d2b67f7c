/**
 * report.html: the run for people. One self-contained page (inline SVG, inline CSS, no script,
 * nothing fetched): key figures, prices (the engine's and the scenario's), the insurance fund
 * and bad debt, liquidations per step, the distribution of maintenance ratios at the start,
 * the worst moment and the end, the 20 largest liquidations with their explanations, and
 * what the run noticed along the way.
 */
import { parseDecimal, WAD_DECIMALS } from '../core/fixed.ts';
import type { MonteCarloSummary } from './montecarlo.ts';
import type { Report } from './report.ts';
import { isoTime } from './report.ts';
import { RATIO_BUCKET_LABELS, type RunResult } from './run.ts';
import { barChart, CHART_CSS, escapeXml, groupedBarChart, lineChart, PALETTE } from './svg.ts';

export interface HtmlInput {
  readonly title: string;
  readonly report: Report;
  readonly run: RunResult;
  /** Simulation parameters shown as given (insurance, backstop, depth…). */
  readonly parameters: Readonly<Record<string, string>>;
  readonly notes?: readonly string[];
  readonly monteCarlo?: MonteCarloSummary;
}

/** USD wad as "1,234,567.89" (display only: cut toward zero to cents). */
export function usd(valueWad: bigint): string {
  const negative = valueWad < 0n;
  const magnitude = negative ? -valueWad : valueWad;
  const cents = magnitude / 10n ** 16n;
  const whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '−' : ''}${whole}.${(cents % 100n).toString().padStart(2, '0')}`;
}

function usdText(text: string): string {
  const parsed = parseDecimal(text, WAD_DECIMALS);
  return parsed.ok ? usd(parsed.value) : text;
}

function num(valueWad: bigint): number {
  return Number(valueWad) / 1e18;
}

function shortTime(ms: number): string {
  return isoTime(ms).replace('T', ' ').replace(/:00Z$/, 'Z').replace('Z', ' UTC');
}

/** "03-12 10:15": axis labels and table cells (the year is in the page header). */
function axisTime(ms: number): string {
  return isoTime(ms).slice(5, 16).replace('T', ' ');
}

/** The step with the most accounts in warning or liquidatable (earliest on a tie). */
export function worstFrame(run: RunResult): number {
  let worst = 0;
  let worstCount = -1;
  run.timeline.forEach((entry, index) => {
    const count = entry.accountsLiquidatable + entry.accountsWarning;
    if (count > worstCount) {
      worstCount = count;
      worst = index;
    }
  });
  return worst;
}

export function renderReportHtml(input: HtmlInput): string {
  const { report, run } = input;
  const timeline = run.timeline;
  const xLabels = timeline.map((entry) => axisTime(entry.timestampMs));
  const assets = [...new Set(timeline.flatMap((entry) => [...entry.prices.keys()]))].sort();

  const priceCharts = assets.map((asset, index) => {
    const color = PALETTE[index % PALETTE.length] ?? '#2563eb';
    return lineChart({ title: `${asset} price (USD)`, xLabels, width: 460, height: 220 }, [
      { label: 'engine (oracle, with impact)', color, values: timeline.map((entry) => num(entry.prices.get(asset) ?? 0n)) },
      {
        label: 'scenario',
        color: '#9ca3af',
        dashed: true,
        values: timeline.map((entry) => {
          const price = entry.pathPrices.get(asset);
          return price === undefined ? Number.NaN : num(price);
        }),
      },
    ], { logWhenRatioAbove: 20 });
  });
  const fundChart = lineChart(
    { title: 'Insurance fund and bad debt (USD)', xLabels },
    [
      { label: 'insurance fund', color: PALETTE[0], values: timeline.map((entry) => num(entry.insuranceFundUsd)) },
      { label: 'bad debt so far', color: PALETTE[1], values: timeline.map((entry) => num(entry.badDebtUsd)) },
    ],
    { includeZero: true },
  );
  const liquidationChart = barChart(
    { title: 'Liquidations per step', xLabels },
    { label: 'liquidations', color: PALETTE[1], values: timeline.map((entry) => entry.liquidations) },
    { label: 'accounts liquidatable', color: PALETTE[3], values: timeline.map((entry) => entry.accountsLiquidatable) },
  );
  const stressChart = lineChart(
    { title: 'Accounts in warning and liquidatable', xLabels },
    [
      { label: 'warning', color: PALETTE[3], values: timeline.map((entry) => entry.accountsWarning) },
      { label: 'liquidatable', color: PALETTE[1], values: timeline.map((entry) => entry.accountsLiquidatable) },
    ],
    { includeZero: true },
  );
  const worst = worstFrame(run);
  const moments = [
    { label: `start (${shortTime(timeline[0]?.timestampMs ?? 0)})`, entry: timeline[0] },
    { label: `worst (${shortTime(timeline[worst]?.timestampMs ?? 0)})`, entry: timeline[worst] },
    { label: `end (${shortTime(timeline[timeline.length - 1]?.timestampMs ?? 0)})`, entry: timeline[timeline.length - 1] },
  ];
  const ratioChart = groupedBarChart(
    { title: 'Maintenance ratio (assets / liabilities): accounts per band', xLabels: [], width: 940, height: 280 },
    [...RATIO_BUCKET_LABELS],
    moments.map((moment, index) => ({
      label: moment.label,
      color: [PALETTE[0], PALETTE[1], PALETTE[2]][index] ?? '#000',
      values: moment.entry?.ratioHistogram ?? [],
    })),
  );

  const totals = report.totals;
  const d = run.diagnostics;
  const figures: [string, string][] = [
    ['Accounts', report.accounts.toLocaleString('en-US')],
    ['Liquidations', totals.liquidations.toLocaleString('en-US')],
    ['Liquidated notional', `${usdText(totals.liquidatedNotionalUsd)} USD`],
    ['Penalties', `${usdText(totals.penaltiesUsd)} USD`],
    ['Bad debt', `${usdText(totals.badDebtUsd)} USD`],
    ['Socialised loss (lenders’ haircut + deleveraging)', `${usdText(totals.socializedLossUsd)} USD`],
    ['Deleveraging events', totals.deleveragingEvents.toLocaleString('en-US')],
    ['Insurance fund: start → end (min)', `${usdText(totals.insuranceFundStartUsd)} → ${usdText(totals.insuranceFundEndUsd)} (${usdText(totals.insuranceFundMinUsd)}) USD`],
    ['Backstop equity: start → end', `${usd(d.backstopEquityStartUsd)} → ${usd(d.backstopEquityEndUsd)} USD`],
    ['Still liquidatable at the end', `${d.liquidatableAtEnd} accounts, maintenance shortfall ${usd(d.shortfallAtEndUsd)} USD, unrecorded deficit ${usd(d.unrecordedDeficitUsd)} USD`],
  ];
  const invariantsOk = report.invariants.conservation === 'held' && report.invariants.healthyLiquidated === 0;
  const largest = run.largest
    .map(
      (entry, index) =>
        `<tr><td>${index + 1}</td><td class="t">${escapeXml(axisTime(entry.timestampMs))}</td><td>${escapeXml(entry.account)}</td>` +
        `<td class="n">${usd(entry.notionalUsd)}</td><td class="n">${usd(entry.penaltiesUsd)}</td><td class="n">${usd(entry.badDebtUsd)}</td>` +
        `<td>${entry.bankrupt ? 'yes' : ''}</td><td class="why">${escapeXml(entry.explanation)}</td></tr>`,
    )
    .join('\n');
  const refusals = Object.entries(d.refusals);
  const concessions = Object.entries(d.maxConcession);
  const notes = [
    ...(input.notes ?? []),
    refusals.length === 0
      ? 'No liquidation was refused.'
      : `Liquidations refused: ${refusals.map(([code, count]) => `${code} × ${count}`).join(', ')}.`,
    concessions.length === 0
      ? 'Liquidation sales did not move any price.'
      : `Largest price concession from liquidation sales in one step: ${concessions.map(([asset, value]) => `${asset} ${(value * 100).toFixed(2)}%`).join(', ')}.`,
    `Price records the oracle marked unhealthy (no liquidation on them): ${d.unhealthyPriceRecords}.`,
    `Accounts valued exactly after float screening: ${d.exactEvaluations.toLocaleString('en-US')} (every liquidation is re-checked by the ledger).`,
    ...(d.auctionBids + d.auctionResets > 0 ? [`Dutch auctions: ${d.auctionBids} bids taken, ${d.auctionResets} resets.`] : []),
    ...run.invariants.violations.slice(0, 10).map((violation) => `Invariant violation: ${violation}`),
  ];
  const parameters = Object.entries(input.parameters)
    .map(([key, value]) => `<tr><th>${escapeXml(key)}</th><td>${escapeXml(value)}</td></tr>`)
    .join('');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(input.title)} — stress report</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, Segoe UI, sans-serif; color: #0f172a; margin: 24px auto; max-width: 980px; padding: 0 16px; background: #f8fafc; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #e2e8f0; padding-bottom: 4px; }
.meta { color: #475569; font-size: 12px; word-break: break-all; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e2e8f0; vertical-align: top; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.why { font-size: 12px; color: #334155; }
td.t { white-space: nowrap; }
.badge { display: inline-block; padding: 2px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.ok { background: #dcfce7; color: #166534; } .bad { background: #fee2e2; color: #991b1b; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 12px; }
figure { margin: 0; }
ul.notes li { margin: 3px 0; }
${CHART_CSS}
</style>
</head>
<body>
<h1>${escapeXml(input.title)}</h1>
<p class="meta">scenario <b>${escapeXml(report.scenario)}</b> · seed ${report.seed} · ${report.accounts.toLocaleString('en-US')} accounts · ${timeline.length} steps from ${escapeXml(shortTime(timeline[0]?.timestampMs ?? 0))} to ${escapeXml(shortTime(timeline[timeline.length - 1]?.timestampMs ?? 0))}<br>
configuration ${escapeXml(report.configHash)} · final state ${escapeXml(report.stateHash)}</p>
<p><span class="badge ${invariantsOk ? 'ok' : 'bad'}">conservation ${escapeXml(report.invariants.conservation)} · healthy accounts liquidated: ${report.invariants.healthyLiquidated}</span></p>

<h2>Key figures</h2>
<table id="figures">${figures.map(([key, value]) => `<tr><th>${escapeXml(key)}</th><td class="n">${escapeXml(value)}</td></tr>`).join('')}</table>
${input.monteCarlo === undefined ? '' : monteCarloSection(input.monteCarlo)}
<h2>Prices</h2>
<div class="grid2">${priceCharts.map((chart) => `<figure>${chart}</figure>`).join('\n')}</div>

<h2>Insurance fund and bad debt</h2>
<figure>${fundChart}</figure>

<h2>Liquidations</h2>
<figure>${liquidationChart}</figure>
<figure>${stressChart}</figure>

<h2>Distribution of maintenance ratios</h2>
<p>Accounts per band of maintenance ratio at the start, at the worst moment (most accounts in warning or liquidatable) and at the end. Below 1 is liquidatable; “no debt” holds accounts without liabilities (lenders, accounts closed out).</p>
<figure>${ratioChart}</figure>

<h2>The ${run.largest.length} largest liquidations</h2>
<table id="largest"><thead><tr><th>#</th><th>time (UTC)</th><th>account</th><th>notional USD</th><th>penalties USD</th><th>bad debt USD</th><th>bankrupt</th><th>explanation</th></tr></thead>
<tbody>
${largest}
</tbody></table>

<h2>Notes</h2>
<ul class="notes">${notes.map((note) => `<li>${escapeXml(note)}</li>`).join('')}</ul>

<h2>Parameters</h2>
<table>${parameters}</table>
<p class="meta">USD figures on this page are cut to cents; report.json holds them exactly (18 decimals).</p>
</body>
</html>
`;
}

function monteCarloSection(summary: MonteCarloSummary): string {
  const rows = summary.quantiles
    .map((row) => `<tr><td>${escapeXml(row.label)}</td><td class="n">${usdText(row.badDebtUsd)}</td><td class="n">${usdText(row.insuranceFundLossUsd)}</td></tr>`)
    .join('');
  const adequacy = summary.adequacy;
  return `
<h2>Monte Carlo: ${summary.paths} paths of ${summary.steps} steps</h2>
<table id="quantiles"><thead><tr><th>quantile</th><th>bad debt USD</th><th>insurance-fund loss USD</th></tr></thead><tbody>${rows}</tbody></table>
<p><b>Insurance-fund adequacy.</b> Fund at the start ${usdText(adequacy.fundStartUsd)} USD. Needed to cover the bad debt of 99% of paths: ${usdText(adequacy.neededAt99Usd)} USD (${adequacy.coveredAt99 ? 'covered' : 'not covered'}); of 99.9%: ${usdText(adequacy.neededAt999Usd)} USD (${adequacy.coveredAt999 ? 'covered' : 'not covered'}). ${escapeXml(adequacy.note)}</p>
<p>The charts below show the worst path (path ${summary.worstPath}, the largest bad debt).</p>`;
}
