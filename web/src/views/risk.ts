/**
 * Risk: the histogram of maintenance ratios over all accounts, and the accounts closest to
 * liquidation, sortable and paginated, each with what it is exposed to.
 */
import { barChart } from '../charts.ts';
import { amount, compactUsd, fixed, ratio, usd } from '../decimal.ts';
import { card, fill, h, notice, pill, table, throttle } from '../dom.ts';
import type { View } from '../context.ts';
import type { Exposure, Ranking, RankingSort, StreamMessage, Summary } from '../types.ts';

const REFRESH_MS = 5_000;
const PAGE_SIZES = [20, 50, 100] as const;
const SORTS: readonly { sort: RankingSort; order: 'asc' | 'desc'; label: string }[] = [
  { sort: 'ratio', order: 'asc', label: 'Maintenance ratio, lowest first' },
  { sort: 'health', order: 'asc', label: 'Maintenance health, lowest first' },
  { sort: 'initialHealth', order: 'asc', label: 'Initial health, lowest first' },
  { sort: 'ratio', order: 'desc', label: 'Maintenance ratio, highest first' },
  { sort: 'health', order: 'desc', label: 'Maintenance health, highest first' },
];

export const riskView: View = (context, root) => {
  const { api, live } = context;
  let sort: RankingSort = 'ratio';
  let order: 'asc' | 'desc' = 'asc';
  let offset = 0;
  let limit: number = PAGE_SIZES[0];
  let labels: string[] = [];
  /** Buckets below these indexes are liquidatable (ratio < 1) or on margin call. */
  let solventIndex = 0;
  let warningIndex = 0;

  const histogramBox = h('div', { class: 'chart', 'data-testid': 'ratio-histogram' });
  const histogramNote = h('p', { class: 'muted small' });
  const rankingBody = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  // The column headers sort on wide screens; narrow screens stack the rows and sort here.
  const sortSelect = h(
    'select',
    {
      'aria-label': 'Sort accounts by',
      onchange: (event: Event) => {
        const [key, direction] = (event.target as HTMLSelectElement).value.split(':') as [RankingSort, 'asc' | 'desc'];
        sort = key;
        order = direction;
        offset = 0;
        void loadRanking();
      },
    },
    SORTS.map((entry) => h('option', { value: `${entry.sort}:${entry.order}` }, entry.label)),
  );
  const pager = h('div', { class: 'pager' });

  fill(
    root,
    h(
      'div',
      { class: 'grid' },
      card('Maintenance ratio of every account', { class: 'wide' }, histogramBox, histogramNote),
      card('Closest to liquidation', { class: 'wide', 'data-testid': 'ranking' }, h('label', { class: 'row narrow-only' }, 'Sort by ', sortSelect), rankingBody, pager),
    ),
  );

  const histogram = barChart(histogramBox, {
    label: 'Accounts',
    height: 200,
    labels: () => labels,
    colors: (index) => (index === labels.length - 1 ? '#8a94a3' : index < solventIndex ? '#c0392b' : index < warningIndex ? '#d9822b' : '#2e9e6a'),
  });

  const loadHistogram = async () => {
    try {
      const summary = await api.get<Summary>('/v1/risk/summary');
      const buckets = summary.histogram.buckets;
      labels = [...buckets.map((bucket) => (bucket.to === null ? `≥${fixed(bucket.from, 2)}` : `${trim(bucket.from)}–${trim(bucket.to)}`)), 'no debt'];
      warningIndex = buckets.findIndex((bucket) => bucket.from === summary.histogram.warningRatio);
      solventIndex = buckets.findIndex((bucket) => bucket.from === '1.000000000000000000');
      histogram.update([...buckets.map((bucket) => bucket.count), summary.histogram.noLiabilities]);
      fill(
        histogramNote,
        `Maintenance ratio = weighted assets ÷ weighted liabilities. Below 1.00 (red) an account is liquidatable; below ${fixed(summary.histogram.warningRatio, 2)} (amber) it gets a margin call. `,
        `${summary.accounts.liquidatable} liquidatable, ${summary.accounts.warning} on margin call, ${summary.histogram.noLiabilities} without debt.`,
      );
    } catch (error) {
      fill(histogramNote, notice(`Histogram: ${(error as Error).message}`));
    }
  };

  const header = (label: string, key: RankingSort) => {
    const active = sort === key;
    return h(
      'button',
      {
        type: 'button',
        class: `sort${active ? ' active' : ''}`,
        'data-sort': key,
        'aria-sort': active ? (order === 'asc' ? 'ascending' : 'descending') : null,
        onclick: () => {
          if (sort === key) order = order === 'asc' ? 'desc' : 'asc';
          else {
            sort = key;
            order = 'asc';
          }
          offset = 0;
          void loadRanking();
        },
      },
      label,
      active ? (order === 'asc' ? ' ▲' : ' ▼') : '',
    );
  };

  const drawRanking = (ranking: Ranking) => {
    sortSelect.value = `${sort}:${order}`;
    const rows = ranking.accounts.map((account) =>
      h(
        'tr',
        { 'data-account': account.id },
        h('th', { scope: 'row' }, h('a', { href: `#/account/${encodeURIComponent(account.id)}` }, account.id)),
        h('td', { class: 'num' }, ratio(account.maintenanceRatio)),
        h('td', { class: 'num' }, usd(account.maintenanceHealth)),
        h('td', { class: 'num' }, usd(account.initialHealth)),
        h('td', {}, statusPill(account)),
        h('td', { class: 'exposure' }, exposureList(account.exposures)),
      ),
    );
    fill(
      rankingBody,
      table(['Account', header('Maint. ratio', 'ratio'), header('Maint. health', 'health'), header('Initial health', 'initialHealth'), 'Status', 'Exposed to'], rows, { stack: true }),
    );
    const last = Math.min(ranking.offset + ranking.accounts.length, ranking.total);
    fill(
      pager,
      h('button', { type: 'button', disabled: ranking.offset === 0, onclick: () => page(-1), 'data-testid': 'prev' }, '‹ Prev'),
      h('span', { class: 'muted' }, `${ranking.total === 0 ? 0 : ranking.offset + 1}–${last} of ${ranking.total}`),
      h('button', { type: 'button', disabled: last >= ranking.total, onclick: () => page(1), 'data-testid': 'next' }, 'Next ›'),
      h(
        'select',
        {
          'aria-label': 'Rows per page',
          onchange: (event: Event) => {
            limit = Number((event.target as HTMLSelectElement).value);
            offset = 0;
            void loadRanking();
          },
        },
        PAGE_SIZES.map((size) => h('option', { value: size, selected: size === limit }, `${size} a page`)),
      ),
    );
  };

  const page = (direction: -1 | 1) => {
    offset = Math.max(0, offset + direction * limit);
    void loadRanking();
  };

  const loadRanking = async () => {
    try {
      const ranking = await api.get<Ranking>(`/v1/risk/ranking?sort=${sort}&order=${order}&offset=${offset}&limit=${limit}`);
      drawRanking(ranking);
    } catch (error) {
      fill(rankingBody, notice(`Accounts: ${(error as Error).message}`));
    }
  };

  const refresh = throttle(() => {
    void loadHistogram();
    void loadRanking();
  }, 1_000);
  const onMessage = (message: StreamMessage) => {
    if ('topic' in message && (message.type === 'warning' || message.type === 'liquidatable' || message.type === 'recovered')) refresh();
  };
  const unsubscribe = live.subscribe(['warnings']);
  const unlisten = live.onMessage(onMessage);
  void loadHistogram();
  void loadRanking();
  const timer = window.setInterval(refresh, REFRESH_MS);
  return () => {
    window.clearInterval(timer);
    refresh.cancel();
    unsubscribe();
    unlisten();
    histogram.destroy();
  };
};

export function statusPill(account: { liquidatable: boolean; warning: boolean }): HTMLElement {
  if (account.liquidatable) return pill('liquidatable');
  if (account.warning) return pill('warning', 'margin call');
  return pill('healthy');
}

function exposureList(exposures: readonly Exposure[]): HTMLElement {
  return h(
    'ul',
    { class: 'chips' },
    exposures.map((exposure) =>
      exposure.kind === 'balance'
        ? h('li', { class: exposure.amount.startsWith('-') ? 'debt' : null }, `${exposure.asset} ${amount(exposure.amount)}`, exposure.valueUsd === null || exposure.asset === 'USDC' ? '' : ` (${compactUsd(exposure.valueUsd)})`)
        : h('li', { class: 'perp' }, `${exposure.market} ${exposure.size.startsWith('-') ? 'short' : 'long'} ${amount(exposure.size.replace(/^-/, ''))}`, exposure.notionalUsd === null ? '' : ` (${compactUsd(exposure.notionalUsd)})`),
    ),
  );
}

/** "1.250000000000000000" → "1.25". */
function trim(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}
