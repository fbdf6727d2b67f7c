/**
 * Parameters: the risk configuration in force (`GET /v1/config`), as tables, with the raw
 * JSON below; then a pre-flight of an edited configuration: the JSON in an editor, the
 * crises to replay (`GET /v1/config/preflight` lists them), and the engine's judgement from
 * `POST /v1/config/preflight` (verdict, accounts at once, each crisis under the current and
 * the edited configuration). Nothing is applied: a change goes through `POST /v1/config`
 * with an admin key, which this page does not send. The page judges nothing itself.
 */
import { ApiError } from '../api.ts';
import { signOf, usd } from '../decimal.ts';
import { card, fill, h, notice, pill, table } from '../dom.ts';
import type { View, ViewContext } from '../context.ts';
import type { PreflightReport, RunFigures, ScenarioJudgement } from '../types.ts';

type Json = Record<string, unknown>;

const LIQUIDATION_FIELDS: Readonly<Record<string, string>> = {
  targetMaintenanceRatio: 'A liquidation stops once the maintenance ratio reaches this (default: initial health ≥ 0)',
  dustUsd: 'A remainder below this is closed whole',
  maxShare: 'Largest share of a position or debt taken in one liquidation',
  insuranceShare: 'Share of each penalty paid to the insurance fund (the rest to the liquidator)',
  windowMs: 'Cascade window, milliseconds',
  notionalCapPerWindowUsd: 'Most notional liquidated per market or asset in one window, USD',
};

/** Replays on a large book take long: the pre-flight waits this long before giving up. */
const PREFLIGHT_TIMEOUT_MS = 300_000;

export const parametersView: View = (context, root) => {
  const body = h('div', { class: 'grid' }, card('Risk configuration', { class: 'wide' }, h('p', { class: 'muted' }, 'Loading…')));
  fill(root, body);
  let open = true;
  void context.api
    .get<{ config: Json }>('/v1/config')
    .then(({ config }) => {
      if (open) fill(body, ...sections(config), preflightCard(context, config, () => open));
    })
    .catch((error: unknown) => fill(body, card('Risk configuration', { class: 'wide' }, notice((error as Error).message))));
  return () => {
    open = false;
  };
};

function text(value: unknown): string {
  if (value === undefined || value === null) return '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function pair(weights: unknown): string {
  if (weights === undefined || weights === null || typeof weights !== 'object') return '—';
  const { initialWeight, maintenanceWeight } = weights as Json;
  return `${text(initialWeight)} / ${text(maintenanceWeight)}`;
}

function sections(config: Json): HTMLElement[] {
  const liquidation = (config.liquidation ?? {}) as Json;
  const assets = (Array.isArray(config.assets) ? config.assets : []) as Json[];
  const markets = (Array.isArray(config.markets) ? config.markets : []) as Json[];
  const general = [
    h('tr', {}, h('th', { scope: 'row' }, 'Quote asset'), h('td', {}, text(config.quote)), h('td', { class: 'muted' }, 'Unit of account')),
    h('tr', {}, h('th', { scope: 'row' }, 'Warning ratio'), h('td', {}, text(config.warningRatio ?? '1.1')), h('td', { class: 'muted' }, 'Margin call below this maintenance ratio')),
    ...Object.entries(liquidation).map(([key, value]) =>
      h('tr', {}, h('th', { scope: 'row' }, `liquidation.${key}`), h('td', {}, text(value)), h('td', { class: 'muted' }, LIQUIDATION_FIELDS[key] ?? '')),
    ),
  ];
  const assetRows = assets.map((asset) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, text(asset.id)),
      h('td', { class: 'num' }, text(asset.decimals)),
      h('td', { class: 'num' }, asset.collateral === undefined ? 'not collateral' : pair(asset.collateral)),
      h('td', { class: 'num' }, asset.liability === undefined ? 'not borrowable' : pair(asset.liability)),
      h('td', { class: 'num' }, text(asset.liquidationPenalty)),
      h('td', { class: 'num' }, `${text(asset.depositCap)} / ${text(asset.borrowCap)}`),
      h('td', { class: 'small' }, asset.interest === undefined ? '—' : describeInterest(asset.interest as Json), asset.auction === undefined ? '' : ` · auction ${text(asset.auction)}`),
    ),
  );
  const marketRows = markets.map((market) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, text(market.id)),
      h('td', {}, text(market.base)),
      h('td', { class: 'num' }, `${text(market.initialMarginFraction)} / ${text(market.maintenanceMarginFraction)}`),
      h('td', { class: 'num' }, text(market.sizeScalingFactor ?? '0')),
      h('td', { class: 'num' }, text(market.liquidationFee ?? '0')),
      h('td', { class: 'num' }, market.positivePnlWeight === undefined ? '1 / 1' : `${text((market.positivePnlWeight as Json).initial)} / ${text((market.positivePnlWeight as Json).maintenance)}`),
    ),
  );
  return [
    card('General and liquidation', { class: 'wide' }, table(['Setting', 'Value', 'Meaning'], general, { stack: true })),
    card(
      'Assets',
      { class: 'wide', 'data-testid': 'assets-config' },
      table(['Asset', 'Decimals', 'Collateral weight init / maint', 'Liability weight init / maint', 'Penalty', 'Caps deposit / borrow', 'Interest'], assetRows, { stack: true }),
    ),
    card('Perp markets', { class: 'wide' }, table(['Market', 'Base', 'Margin fraction init / maint', 'Size scaling', 'Liquidation fee', 'Positive PnL weight init / maint'], marketRows, { stack: true })),
    card(
      'Raw configuration',
      { class: 'wide' },
      h('p', { class: 'muted small' }, 'Changed with POST /v1/config (admin key); this page applies nothing. Pre-flight an edited one below.'),
      h('details', {}, h('summary', {}, 'JSON'), h('pre', { class: 'json' }, JSON.stringify(config, null, 2))),
    ),
  ];
}

function describeInterest(interest: Json): string {
  return `base ${text(interest.baseRate)}, kink at ${text(interest.optimalUtilization)} utilisation, slopes ${text(interest.slopeBelow)} / ${text(interest.slopeAbove)}, reserve ${text(interest.reserveFactor)}`;
}

// ── Pre-flight ───────────────────────────────────────────────────────────────────────────

/** The editor, the crises to replay, the button, and the engine's answer. */
function preflightCard(context: ViewContext, config: Json, isOpen: () => boolean): HTMLElement {
  const editor = h('textarea', {
    class: 'config-editor',
    rows: 18,
    spellcheck: 'false',
    autocomplete: 'off',
    'aria-label': 'Risk configuration to pre-flight (JSON)',
    'data-testid': 'preflight-config',
  });
  editor.value = JSON.stringify(config, null, 2);
  const choices = h('div', { class: 'checks', 'data-testid': 'preflight-scenarios' }, h('span', { class: 'muted small' }, 'Loading the crises…'));
  const run = h('button', { type: 'button', 'data-testid': 'preflight-run' }, 'Pre-flight');
  const reset = h('button', { type: 'button', class: 'link' }, 'Back to the configuration in force');
  const status = h('span', { class: 'muted small', role: 'status' });
  const result = h('div', { class: 'preflight-result', 'data-testid': 'preflight-result', 'aria-live': 'polite' });

  void context.api
    .get<{ scenarios: readonly string[] }>('/v1/config/preflight')
    .then(({ scenarios }) =>
      fill(
        choices,
        scenarios.map((name) => h('label', {}, h('input', { type: 'checkbox', value: name, checked: true, 'data-testid': `preflight-scenario-${name}` }), ` ${name}`)),
      ),
    )
    .catch((error: unknown) => fill(choices, notice(`The crises could not be listed: ${(error as Error).message}`)));

  reset.addEventListener('click', () => {
    editor.value = JSON.stringify(config, null, 2);
    result.replaceChildren();
  });

  run.addEventListener('click', () => {
    let proposed: unknown;
    try {
      proposed = JSON.parse(editor.value);
    } catch (error) {
      fill(result, notice(`The configuration is not valid JSON: ${(error as Error).message}`));
      return;
    }
    const scenarios = [...choices.querySelectorAll<HTMLInputElement>('input[type=checkbox]')].filter((box) => box.checked).map((box) => box.value);
    const startedMs = Date.now();
    run.disabled = true;
    status.textContent = scenarios.length === 0 ? 'Judging…' : `Judging, and replaying ${scenarios.length} crisis${scenarios.length === 1 ? '' : 'es'} twice…`;
    context.api
      .post<PreflightReport>('/v1/config/preflight', { config: proposed, scenarios }, { timeoutMs: PREFLIGHT_TIMEOUT_MS })
      .then((report) => {
        if (!isOpen()) return;
        status.textContent = `Answered in ${((Date.now() - startedMs) / 1000).toFixed(1)} s.`;
        fill(result, ...drawReport(report));
      })
      .catch((error: unknown) => {
        if (!isOpen()) return;
        status.textContent = '';
        fill(result, refusal(error));
      })
      .finally(() => {
        run.disabled = false;
      });
  });

  return card(
    'Pre-flight an edited configuration',
    { class: 'wide', 'data-testid': 'preflight' },
    h(
      'p',
      { class: 'muted small' },
      'Edit the configuration and ask the engine what it would do, on the live book, without applying it: every account valued under it at today’s prices, and each chosen crisis replayed on copies of the book under the configuration in force and the edited one.',
    ),
    editor,
    h('fieldset', {}, h('legend', {}, 'Crises to replay (none: the accounts at once only)'), choices),
    h('div', { class: 'row' }, run, reset, status),
    result,
  );
}

/** Why the engine gave no judgement, naming the field. */
function refusal(error: unknown): HTMLElement {
  if (!(error instanceof ApiError)) return notice((error as Error).message);
  const issues = Array.isArray(error.details.issues) ? (error.details.issues as { field: string; message: string }[]) : [];
  const field = typeof error.details.field === 'string' && error.details.field !== '' ? error.details.field : null;
  const problems = issues.length > 0 ? issues : [{ field: field ?? '', message: error.message }];
  const what = error.code === 'INVALID_CONFIG' ? 'The configuration is invalid' : error.code === 'CONFIG_INCOMPATIBLE' ? 'The ledger would refuse this change' : 'The engine refused the pre-flight';
  return h(
    'div',
    { class: 'notice notice-error', role: 'alert', 'data-testid': 'preflight-error' },
    h('p', { class: 'strong' }, `${what} (${error.code}):`),
    h(
      'ul',
      {},
      problems.map((problem) =>
        // A message that starts with its field (schema errors: "body.config: …") is shown as it is.
        problem.field === '' || problem.message.startsWith(`${problem.field}:`)
          ? h('li', {}, problem.message)
          : h('li', {}, h('code', {}, problem.field), `: ${problem.message}`),
      ),
    ),
  );
}

function accountLinks(ids: readonly string[], total: number): HTMLElement | null {
  if (total === 0) return null;
  return h(
    'ul',
    { class: 'chips' },
    ids.map((id) => h('li', {}, h('a', { href: `#/account/${encodeURIComponent(id)}` }, id))),
    total > ids.length ? h('li', { class: 'muted' }, `and ${total - ids.length} more`) : null,
  );
}

function drawReport(report: PreflightReport): HTMLElement[] {
  const { atOnce } = report;
  const countRow = (label: string, current: number, proposed: number, testid: string) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, label),
      h('td', { class: 'num' }, String(current)),
      h('td', { class: `num strong ${proposed > current ? 'bad' : ''}`.trim(), 'data-testid': `preflight-${testid}` }, String(proposed)),
    );
  const scenarioRows = report.scenarios.map((judgement) => scenarioRow(judgement));
  return [
    h(
      'p',
      { class: 'verdict', 'data-testid': 'preflight-verdict' },
      report.verdict === 'accept' ? pill('healthy', 'accept') : pill('liquidatable', 'refuse'),
      ` ${report.reason}.`,
    ),
    h('p', { class: 'muted small' }, `Judged on the book at event ${report.seq}; configuration ${report.configHash.slice(0, 12)}…`),
    h('h3', {}, `At once, at today’s prices (${atOnce.accounts} accounts)`),
    table(
      ['', 'In force', 'Edited'],
      [countRow('Liquidatable', atOnce.current.liquidatable, atOnce.proposed.liquidatable, 'liquidatable'), countRow('Margin call (warning)', atOnce.current.warning, atOnce.proposed.warning, 'warning')],
    ),
    h('p', { class: 'small' }, `Newly liquidatable: ${atOnce.newlyLiquidatable}`),
    accountLinks(atOnce.newlyLiquidatableAccounts, atOnce.newlyLiquidatable),
    h('p', { class: 'small' }, `Newly in warning: ${atOnce.newlyWarning}`),
    accountLinks(atOnce.newlyWarningAccounts, atOnce.newlyWarning),
    atOnce.unvalued > 0 ? h('p', { class: 'small bad' }, `${atOnce.unvalued} account(s) could not be valued (a price missing).`) : null,
    h('h3', {}, 'Under each crisis (in force → edited)'),
    scenarioRows.length === 0
      ? h('p', { class: 'muted small' }, 'No crisis replayed.')
      : h(
          'div',
          { 'data-testid': 'preflight-scenarios-table' },
          table(['Crisis', 'Liquidations', 'Bad debt in force', 'Bad debt edited', 'Change', 'Insurance fund at the end', 'Notes'], scenarioRows, { stack: true }),
        ),
  ].filter((element): element is HTMLElement => element !== null);
}

function scenarioRow(judgement: ScenarioJudgement): HTMLTableRowElement {
  const { current, proposed } = judgement;
  const name = h('th', { scope: 'row' }, judgement.scenario);
  if (current === undefined || proposed === undefined) {
    const note = judgement.error !== undefined ? h('span', { class: 'bad' }, judgement.error) : h('span', { class: 'muted' }, 'does not apply: it moves no asset the book holds');
    return h('tr', {}, name, h('td', { class: 'num' }, '—'), h('td', { class: 'num' }, '—'), h('td', { class: 'num' }, '—'), h('td', { class: 'num' }, '—'), h('td', { class: 'num' }, '—'), h('td', {}, note));
  }
  const change = judgement.badDebtChangeUsd ?? '0';
  const sign = signOf(change);
  return h(
    'tr',
    {},
    name,
    h('td', { class: 'num' }, `${current.liquidations} → ${proposed.liquidations}`),
    h('td', { class: 'num' }, usd(current.badDebtUsd, 0)),
    h('td', { class: 'num strong' }, usd(proposed.badDebtUsd, 0)),
    h('td', { class: `num ${sign > 0 ? 'bad' : sign < 0 ? 'ok' : ''}`.trim() }, sign === 0 ? '±$0' : usd(change, 0, { sign: true })),
    h('td', { class: 'num' }, `${usd(current.insuranceFundEndUsd, 0)} → ${usd(proposed.insuranceFundEndUsd, 0)}`),
    h('td', { class: 'small' }, notes(current, proposed)),
  );
}

/** What else differs or went wrong in a replay: socialised losses, deleveraging, refusals, accounts left. */
function notes(current: RunFigures, proposed: RunFigures): string {
  const parts: string[] = [];
  const pair = (label: string, a: string, b: string) => {
    if (a !== b) parts.push(`${label} ${a} → ${b}`);
    else if (a !== '0' && a !== '$0') parts.push(`${label} ${a}`);
  };
  pair('socialised loss', usd(current.socializedLossUsd, 0), usd(proposed.socializedLossUsd, 0));
  pair('deleveraging', String(current.deleveragingEvents), String(proposed.deleveragingEvents));
  pair('liquidatable at the end', String(current.liquidatableAtEnd), String(proposed.liquidatableAtEnd));
  const refusals = Object.entries(proposed.refusals).map(([code, count]) => `${code} ×${count}`);
  if (refusals.length > 0) parts.push(`refused (edited): ${refusals.join(', ')}`);
  return parts.length === 0 ? '—' : parts.join('; ');
}
