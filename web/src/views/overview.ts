/**
 * Overview: oracle prices with their status (live from the stream), the book's totals,
 * accounts by status, the insurance fund over time and liquidations per minute.
 */
import { ApiError } from '../api.ts';
import { barChart, lineChart } from '../charts.ts';
import { ago, compactUsd, difference, fixed, percentChange, price, toNumber, usd } from '../decimal.ts';
import { card, fill, h, notice, pill, table } from '../dom.ts';
import { readsBook, type View } from '../context.ts';
import { oracleState, oracleWhy } from '../oracle.ts';
import type { History, PriceRow, StreamMessage, Summary } from '../types.ts';

const REFRESH_MS = 5_000;
/** Price points kept per asset for the chart (one a second: ten minutes). */
const PRICE_POINTS_MAX = 600;
export const FIRST_DATA_MARK = 'dashboard:first-data';
const COLORS = ['#d9822b', '#3b6fd4', '#8e44ad', '#2e9e6a', '#c0392b', '#16a085'];

export const overviewView: View = (context, root) => {
  const { api, live, session } = context;
  const book = readsBook(session.role);
  // The first requests leave before the charts are built, so that they overlap.
  let firstPrices: Promise<{ prices: PriceRow[] }> | null = api.get('/v1/prices');
  let firstBook: Promise<[Summary, History]> | null = book ? Promise.all([api.get<Summary>('/v1/risk/summary'), api.get<History>('/v1/risk/history')]) : null;
  firstPrices.catch(() => undefined);
  firstBook?.catch(() => undefined);
  const prices = new Map<string, PriceRow>();
  /** Per asset: the first price seen (the chart shows moves relative to it) and the points. */
  const history = new Map<string, { first: string; points: { atS: number; price: string }[] }>();
  const nowS = () => Math.floor(Date.now() / 1000);

  const priceBody = h('div', {}, h('p', { class: 'muted' }, 'Loading prices…'));
  const priceChartBox = h('div', { class: 'chart', 'data-testid': 'price-chart' });
  const bookBody = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const statusBody = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const insuranceValue = h('p', { class: 'big', 'data-testid': 'insurance-value' }, '—');
  const insuranceBox = h('div', { class: 'chart' });
  const rateValue = h('p', { class: 'big' }, '—');
  const rateBox = h('div', { class: 'chart' });

  fill(
    root,
    h(
      'div',
      { class: 'grid' },
      card('Prices', { class: 'wide', 'data-testid': 'prices-card' }, priceBody, h('h3', {}, 'Moves since this page opened'), priceChartBox),
      book ? card('Book', {}, bookBody) : null,
      book ? card('Accounts by status', {}, statusBody) : null,
      book ? card('Insurance fund', {}, insuranceValue, insuranceBox) : null,
      book ? card('Liquidations per minute', {}, rateValue, rateBox) : null,
    ),
  );

  let priceChartAssets: string[] = [];
  let priceChartCurrent = lineChart(priceChartBox, { series: [], height: 180, yFormat: percentLabel });
  const insuranceChart = book ? lineChart(insuranceBox, { series: [{ label: 'Insurance fund', color: '#2e9e6a' }], height: 160, yFormat: shortNumber, stepped: true }) : null;
  const rateChart = book
    ? barChart(rateBox, { label: 'Liquidations', height: 160, colors: () => '#c0392b', labels: () => rateLabels })
    : null;
  let rateLabels: string[] = [];

  const remember = (asset: string, text: string) => {
    let entry = history.get(asset);
    if (entry === undefined) {
      entry = { first: text, points: [] };
      history.set(asset, entry);
    }
    const atS = nowS();
    const last = entry.points[entry.points.length - 1];
    if (last !== undefined && last.atS === atS) last.price = text;
    else entry.points.push({ atS, price: text });
    if (entry.points.length > PRICE_POINTS_MAX) entry.points.splice(0, entry.points.length - PRICE_POINTS_MAX);
  };

  const drawPriceChart = () => {
    const assets = [...history.keys()].filter((asset) => asset !== 'USDC' || history.size === 1);
    if (assets.join() !== priceChartAssets.join()) {
      priceChartCurrent.destroy();
      priceChartAssets = assets;
      priceChartCurrent = lineChart(priceChartBox, {
        series: assets.map((asset, index) => ({ label: asset, color: COLORS[index % COLORS.length] ?? '#333' })),
        height: 180,
        yFormat: percentLabel,
      });
    }
    const times = [...new Set(assets.flatMap((asset) => history.get(asset)?.points.map((point) => point.atS) ?? []))].sort((a, b) => a - b);
    const series = assets.map((asset) => {
      const entry = history.get(asset);
      const byTime = new Map(entry?.points.map((point) => [point.atS, point.price]) ?? []);
      const first = toNumber(entry?.first);
      let last: number | null = null;
      return times.map((atS) => {
        const text = byTime.get(atS);
        if (text !== undefined) last = ((toNumber(text) - first) / first) * 100;
        return last;
      });
    });
    priceChartCurrent.update([times, ...series]);
  };

  const drawPrices = () => {
    const nowMs = Date.now();
    const rows = [...prices.values()].map((row) => {
      const state = oracleState(row.healthy, row.reasons);
      const entry = history.get(row.asset);
      return h(
        'tr',
        { 'data-asset': row.asset },
        h('th', { scope: 'row' }, row.asset),
        h('td', { class: 'num', 'data-testid': `price-${row.asset}` }, price(row.price)),
        h('td', { class: 'num' }, row.confidence === null ? '—' : `± ${price(row.confidence)}`),
        h('td', { class: 'num' }, entry === undefined || row.price === null ? '—' : percentChange(entry.first, row.price)),
        h('td', {}, pill(state === 'none' ? 'halted' : state, state === 'none' ? 'no price' : state), h('span', { class: 'why' }, oracleWhy(state, row.reasons, row.freshSources, row.quorum))),
        h('td', { class: 'muted' }, ago(row.updatedAtMs, nowMs)),
      );
    });
    fill(priceBody, table(['Asset', 'Price', 'Confidence', 'Since opened', 'Oracle', 'Updated'], rows, { optional: [2, 3, 5] }));
  };

  const loadPrices = async () => {
    try {
      const request = firstPrices ?? api.get<{ prices: PriceRow[] }>('/v1/prices');
      firstPrices = null;
      const body = await request;
      for (const row of body.prices) {
        prices.set(row.asset, row);
        if (row.price !== null) remember(row.asset, row.price);
      }
      drawPrices();
      // Navigation to first data on screen, read by the end-to-end test (README figures).
      if (performance.getEntriesByName(FIRST_DATA_MARK).length === 0) performance.mark(FIRST_DATA_MARK);
      drawPriceChart();
    } catch (error) {
      fill(priceBody, notice(`Prices: ${(error as Error).message}`));
    }
  };

  const loadBook = async () => {
    if (!book) return;
    try {
      const request = firstBook ?? Promise.all([api.get<Summary>('/v1/risk/summary'), api.get<History>('/v1/risk/history')]);
      firstBook = null;
      const [summary, over] = await request;
      drawBook(summary);
      drawStatus(summary);
      insuranceValue.textContent = usd(summary.insuranceFundUsd);
      const points = [...over.insuranceFund, { atMs: Date.now(), valueUsd: summary.insuranceFundUsd }];
      insuranceChart?.update([points.map((point) => point.atMs / 1000), points.map((point) => toNumber(point.valueUsd))]);
      const lastHour = over.liquidationsPerMinute.reduce((sum, minute) => sum + minute.count, 0);
      const current = over.liquidationsPerMinute[over.liquidationsPerMinute.length - 1]?.count ?? 0;
      fill(rateValue, `${lastHour}`, h('span', { class: 'unit' }, ` in the last hour · ${current} this minute`));
      const recent = over.liquidationsPerMinute.slice(-30);
      rateLabels = recent.map((minute) => new Date(minute.minuteMs).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false }));
      rateChart?.update(recent.map((minute) => minute.count));
    } catch (error) {
      const message = error instanceof ApiError ? error.message : String(error);
      fill(bookBody, notice(`Book: ${message}`));
    }
  };

  const drawBook = (summary: Summary) => {
    const totals = summary.totals;
    const line = (label: string, value: string, title: string, testid?: string) =>
      h('div', { class: 'stat', title }, h('span', { class: 'label' }, label), h('span', { class: 'value', 'data-testid': testid }, compactUsd(value)));
    fill(
      bookBody,
      h(
        'div',
        { class: 'stats' },
        line('Collateral', totals.collateralUsd, 'Market value of every positive balance, at oracle prices', 'total-collateral'),
        line('Debt', totals.debtUsd, 'Market value of every borrowed balance, at oracle prices', 'total-debt'),
        line('Open interest', totals.openInterestUsd, 'Long side of every perp market, at mark prices'),
        line('Maint. assets', totals.maintenance.assets, 'Weighted collateral at the maintenance level (what counts against liquidation)'),
        line('Maint. liabilities', totals.maintenance.liabilities, 'Weighted liabilities and margin requirements at the maintenance level'),
        line('Book health', difference(totals.maintenance.assets, totals.maintenance.liabilities), 'Maintenance assets minus maintenance liabilities over all accounts'),
      ),
      h('p', { class: 'muted small' }, `${summary.accounts.total} accounts · event ${summary.seq}`),
    );
  };

  const drawStatus = (summary: Summary) => {
    const counts = summary.accounts;
    const total = Math.max(counts.total, 1);
    const parts = [
      { kind: 'healthy', label: 'Healthy', count: counts.healthy },
      { kind: 'warning', label: 'Margin call', count: counts.warning },
      { kind: 'liquidatable', label: 'Liquidatable', count: counts.liquidatable },
      { kind: 'unpriced', label: 'Not priced', count: counts.unpriced },
    ].filter((part) => part.count > 0 || part.kind !== 'unpriced');
    fill(
      statusBody,
      h('div', { class: 'status-bar', role: 'img', 'aria-label': parts.map((part) => `${part.label} ${part.count}`).join(', ') }, parts.map((part) => h('span', { class: `seg seg-${part.kind}`, style: `width:${(part.count / total) * 100}%` }))),
      h(
        'ul',
        { class: 'legend' },
        parts.map((part) => h('li', {}, h('span', { class: `dot seg-${part.kind}` }), `${part.label} `, h('strong', { 'data-testid': `count-${part.kind}` }, String(part.count)))),
      ),
      h('p', { class: 'muted small' }, `Margin call: maintenance ratio below ${fixed(summary.histogram.warningRatio, 2)}. Liquidatable: maintenance health below zero.`),
    );
  };

  const onMessage = (message: StreamMessage) => {
    if (!('topic' in message) || message.type !== 'price') return;
    const row = prices.get(message.asset);
    prices.set(message.asset, {
      asset: message.asset,
      price: message.price,
      confidence: message.confidence,
      stablePrice: row?.stablePrice ?? null,
      markPrice: row?.markPrice ?? null,
      healthy: message.healthy,
      reasons: message.reasons,
      freshSources: row?.freshSources ?? 0,
      quorum: row?.quorum ?? 0,
      updatedAtMs: Date.now(),
    });
    remember(message.asset, message.price);
    scheduleDraw();
  };
  // Many assets move in one tick: draw once per frame.
  let drawPending = false;
  const scheduleDraw = () => {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => {
      drawPending = false;
      drawPrices();
      drawPriceChart();
    });
  };

  const unsubscribe = live.subscribe(['prices']);
  const unlisten = live.onMessage(onMessage);
  void loadPrices();
  void loadBook();
  const timer = window.setInterval(() => {
    void loadPrices();
    void loadBook();
  }, REFRESH_MS);

  return () => {
    window.clearInterval(timer);
    unsubscribe();
    unlisten();
    priceChartCurrent.destroy();
    insuranceChart?.destroy();
    rateChart?.destroy();
  };
};

/** Axis labels (drawn only). */
function percentLabel(value: number): string {
  return `${value.toFixed(1)} %`;
}

/** Axis labels: 250k, 1.2M (drawn only). */
function shortNumber(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e9) return `${(value / 1e9).toFixed(1)}B`;
  if (magnitude >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (magnitude >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(0);
}
