/**
 * One account: balances, positions, both healths, the liquidation price of each asset it is
 * exposed to, its place in the deleveraging queue, its liquidations, and a what-if control
 * (move a price, preview a withdrawal) answered by the engine through
 * `POST /v1/accounts/:id/preview`: the page shows the engine's numbers and computes none.
 */
import { ApiError } from '../api.ts';
import { amount, clock, fixed, isPositiveDecimal, movedBy, percentChange, price, ratio, usd } from '../decimal.ts';
import { card, fill, h, notice, pill, table, throttle } from '../dom.ts';
import type { View, ViewContext } from '../context.ts';
import type { AccountJson, AccountRisk, Level, Liquidation, PreviewJson, PriceRow, Ranking, StreamMessage } from '../types.ts';
import { liquidationItem } from './feed.ts';
import { statusPill } from './risk.ts';

const REFRESH_MS = 10_000;
/** Prices move every second: the account is re-read at most this often because of them. */
const PRICE_REFRESH_MS = 2_000;
const PREVIEW_DEBOUNCE_MS = 250;

export const accountView: View = (context, root, route) => {
  const { session } = context;
  if (route.id === undefined) return accountPicker(context, root);
  if (session.role === 'owner' && route.id !== session.account) {
    fill(
      root,
      card(
        'Not your account',
        { 'data-testid': 'forbidden' },
        notice(`This key belongs to account ${session.account ?? '?'}: an owner key sees only its own account, not ${route.id}.`),
        h('p', {}, h('a', { href: `#/account/${encodeURIComponent(session.account ?? '')}` }, `Open ${session.account ?? ''}`)),
      ),
    );
    return () => {};
  }
  return accountPage(context, root, route.id);
};

function accountPage(context: ViewContext, root: HTMLElement, id: string): () => void {
  const { api, live } = context;
  let account: AccountJson | null = null;
  let prices: PriceRow[] = [];

  const title = h('div', { class: 'account-title' }, h('h1', {}, id));
  const healthBody = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const balancesBody = h('div', {});
  const positionsBody = h('div', {});
  const liquidationPricesBody = h('div', {});
  const historyBody = h('ol', { class: 'feed' });
  const problem = h('div', {});

  // What-if controls.
  const moveAsset = h('select', { 'data-testid': 'whatif-asset', 'aria-label': 'Asset whose price moves' });
  const moveRange = h('input', { type: 'range', min: -50, max: 50, step: 1, value: 0, 'data-testid': 'whatif-move', 'aria-label': 'Price move in percent' });
  const moveLabel = h('output', { class: 'move-label' }, '±0 %');
  const movePrice = h('input', { type: 'text', inputmode: 'decimal', 'data-testid': 'whatif-price', 'aria-label': 'Hypothetical price', placeholder: 'price' });
  const withdrawAsset = h('select', { 'data-testid': 'withdraw-asset', 'aria-label': 'Asset to withdraw' });
  const withdrawAmount = h('input', { type: 'text', inputmode: 'decimal', 'data-testid': 'withdraw-amount', 'aria-label': 'Amount to withdraw', placeholder: 'amount' });
  const whatIfResult = h('div', { class: 'whatif-result', 'data-testid': 'whatif-result', 'aria-live': 'polite' });

  fill(
    root,
    h(
      'div',
      { class: 'grid' },
      h('section', { class: 'card wide account-head' }, title, problem),
      card('Health', { 'data-testid': 'health' }, healthBody),
      card(
        'What if…',
        { class: 'whatif' },
        h('p', { class: 'muted small' }, 'Answered by the engine (nothing changes): move one price, preview a withdrawal, or both.'),
        h('fieldset', {}, h('legend', {}, 'Move a price'), h('div', { class: 'row' }, moveAsset, moveRange, moveLabel), h('div', { class: 'row' }, h('label', {}, 'Price ', movePrice))),
        h('fieldset', {}, h('legend', {}, 'Preview a withdrawal'), h('div', { class: 'row' }, withdrawAsset, withdrawAmount)),
        h('div', { class: 'row' }, h('button', { type: 'button', onclick: () => reset() }, 'Reset')),
        whatIfResult,
      ),
      card('Balances', {}, balancesBody),
      card('Liquidation prices', {}, h('p', { class: 'muted small' }, 'The price at which this account becomes liquidatable, every other price held.'), liquidationPricesBody),
      card('Positions', { class: 'wide' }, positionsBody),
      card('Liquidations of this account', { class: 'wide' }, historyBody),
    ),
  );

  const currentPrice = (asset: string): string | null => prices.find((row) => row.asset === asset)?.price ?? null;

  const fillAssetSelects = () => {
    const assets = prices.filter((row) => row.price !== null).map((row) => row.asset);
    const known = [...moveAsset.options].map((option) => option.value);
    if (known.join() === assets.join()) return;
    const exposed = account?.liquidationPrices?.map((entry) => entry.asset) ?? [];
    const firstExposed = assets.find((asset) => exposed.includes(asset) && asset !== 'USDC') ?? assets[0] ?? '';
    fill(moveAsset, assets.map((asset) => h('option', { value: asset, selected: asset === firstExposed }, asset)));
    const held = Object.entries(account?.balances ?? {}).find(([, value]) => !value.startsWith('-'))?.[0] ?? assets[0] ?? '';
    fill(withdrawAsset, assets.map((asset) => h('option', { value: asset, selected: asset === held }, asset)));
    syncMove();
  };

  const syncMove = () => {
    const current = currentPrice(moveAsset.value);
    const percent = Number(moveRange.value);
    moveLabel.textContent = `${percent > 0 ? '+' : percent < 0 ? '−' : '±'}${Math.abs(percent)} %`;
    movePrice.value = current === null || percent === 0 ? '' : movedBy(current, percent);
    movePrice.placeholder = current === null ? 'price' : `now ${price(current)}`;
  };

  const reset = () => {
    moveRange.value = '0';
    withdrawAmount.value = '';
    syncMove();
    whatIfResult.replaceChildren();
  };

  // ── Preview ───────────────────────────────────────────────────────────────────────────
  let previewTimer: number | undefined;
  let previewRun = 0;
  const schedulePreview = () => {
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(() => void runPreview(), PREVIEW_DEBOUNCE_MS);
  };

  const actions = (): { actions: Record<string, string>[]; problem: string | null } => {
    const list: Record<string, string>[] = [];
    const withdrawal = withdrawAmount.value.trim();
    if (withdrawal !== '') {
      if (!isPositiveDecimal(withdrawal)) return { actions: [], problem: 'The amount must be a positive decimal like 250 or 0.5.' };
      list.push({ kind: 'withdraw', asset: withdrawAsset.value, amount: withdrawal });
    }
    const moved = movePrice.value.trim();
    if (moved !== '') {
      if (!isPositiveDecimal(moved)) return { actions: [], problem: 'The price must be a positive decimal like 2950.5.' };
      if (moved !== currentPrice(moveAsset.value)) list.push({ kind: 'price', asset: moveAsset.value, price: moved });
    }
    return { actions: list, problem: null };
  };

  const runPreview = async () => {
    const run = ++previewRun;
    const request = actions();
    if (request.problem !== null) {
      fill(whatIfResult, notice(request.problem));
      return;
    }
    if (request.actions.length === 0) {
      whatIfResult.replaceChildren();
      return;
    }
    if (whatIfResult.childElementCount === 0) fill(whatIfResult, h('p', { class: 'muted' }, 'Asking the engine…'));
    try {
      const preview = await api.post<PreviewJson>(`/v1/accounts/${encodeURIComponent(id)}/preview`, { actions: request.actions });
      if (run !== previewRun) return;
      drawPreview(preview, request.actions);
    } catch (error) {
      if (run !== previewRun) return;
      fill(whatIfResult, notice(`The engine refused the what-if: ${(error as Error).message}`));
    }
  };

  const drawPreview = (preview: PreviewJson, asked: readonly Record<string, string>[]) => {
    const before = preview.before;
    const row = (label: string, now: string, then: string, testid: string) =>
      h('tr', {}, h('th', { scope: 'row' }, label), h('td', { class: 'num', 'data-testid': `now-${testid}` }, now), h('td', { class: 'num strong', 'data-testid': `whatif-${testid}` }, then));
    const described = asked.map((action) => (action.kind === 'withdraw' ? `withdraw ${action.amount} ${action.asset}` : `${action.asset} at ${price(action.price)}`)).join(' and ');
    const check = preview.check;
    fill(
      whatIfResult,
      h('p', { class: 'small' }, `If ${described} (at ${clock(Date.now())}):`),
      table(
        ['', 'Now', 'What if'],
        [
          row('Maintenance health', usd(before.maintenance.health, 2, { sign: true }), usd(preview.maintenance.health, 2, { sign: true }), 'maintenance-health'),
          row('Maintenance ratio', ratio(before.maintenance.ratio), ratio(preview.maintenance.ratio), 'maintenance-ratio'),
          row('Initial health', usd(before.initial.health, 2, { sign: true }), usd(preview.initial.health, 2, { sign: true }), 'initial-health'),
        ],
      ),
      h('p', {}, 'Afterwards: ', statusPill(preview)),
      check === null
        ? null
        : check.accepted
          ? h('p', { class: 'ok' }, 'The ledger would accept this withdrawal now.')
          : h('p', { class: 'bad' }, `The ledger would refuse this withdrawal now: ${check.code} — ${check.message}.`),
    );
  };

  moveAsset.addEventListener('change', () => {
    syncMove();
    schedulePreview();
  });
  moveRange.addEventListener('input', () => {
    syncMove();
    schedulePreview();
  });
  movePrice.addEventListener('input', schedulePreview);
  withdrawAsset.addEventListener('change', schedulePreview);
  withdrawAmount.addEventListener('input', schedulePreview);

  // ── The account ───────────────────────────────────────────────────────────────────────
  const draw = (data: AccountJson) => {
    fill(
      title,
      h('h1', {}, `Account ${data.id}`),
      statusPill(data),
      data.owner !== data.id ? h('span', { class: 'muted small' }, `owner ${data.owner}`) : null,
      data.auctions.length > 0 ? pill('warning', `${data.auctions.length} auction${data.auctions.length === 1 ? '' : 's'} running`) : null,
      h('span', { class: 'muted small updated' }, `updated ${clock(Date.now())}`),
    );
    drawHealth(healthBody, data);
    drawBalances(balancesBody, data);
    drawPositions(positionsBody, data);
    drawLiquidationPrices(liquidationPricesBody, data);
  };

  const load = async () => {
    try {
      const [data, priceBody] = await Promise.all([
        api.get<AccountJson>(`/v1/accounts/${encodeURIComponent(id)}`),
        api.get<{ prices: PriceRow[] }>('/v1/prices'),
      ]);
      account = data;
      prices = priceBody.prices;
      problem.replaceChildren();
      draw(data);
      fillAssetSelects();
      if (whatIfResult.childElementCount > 0) schedulePreview();
    } catch (error) {
      const message = error instanceof ApiError && error.code === 'UNKNOWN_ACCOUNT' ? `There is no account ${id}.` : `Account: ${(error as Error).message}`;
      fill(problem, notice(message));
    }
  };

  const loadHistory = async () => {
    try {
      const body = await api.get<{ liquidations: Liquidation[] }>(`/v1/accounts/${encodeURIComponent(id)}/liquidations?limit=10`);
      if (body.liquidations.length === 0) fill(historyBody, h('li', { class: 'muted' }, 'Never liquidated.'));
      else fill(historyBody, body.liquidations.map(liquidationItem));
    } catch {
      // The account itself reports why it cannot be read.
    }
  };

  const refresh = throttle(() => void load(), PRICE_REFRESH_MS);
  const refreshHistory = throttle(() => void loadHistory(), 1_000);
  const onMessage = (message: StreamMessage) => {
    if (!('topic' in message)) return;
    if (message.type === 'price') refresh();
    else if ('account' in message && message.account === id) {
      refresh();
      if (message.type === 'liquidation') refreshHistory();
    }
  };
  const unsubscribe = live.subscribe(['prices', `account:${id}`]);
  const unlisten = live.onMessage(onMessage);
  void load();
  void loadHistory();
  const timer = window.setInterval(() => void load(), REFRESH_MS);
  return () => {
    window.clearInterval(timer);
    window.clearTimeout(previewTimer);
    refresh.cancel();
    refreshHistory.cancel();
    unsubscribe();
    unlisten();
  };
}

function levelRow(label: string, level: Level, testid: string): HTMLTableRowElement {
  return h(
    'tr',
    {},
    h('th', { scope: 'row' }, label),
    h('td', { class: 'num' }, usd(level.assets)),
    h('td', { class: 'num' }, usd(level.liabilities)),
    h('td', { class: `num strong ${level.health.startsWith('-') ? 'bad' : ''}`, 'data-testid': `${testid}-health` }, usd(level.health, 2, { sign: true })),
    h('td', { class: 'num', 'data-testid': `${testid}-ratio` }, ratio(level.ratio)),
  );
}

function drawHealth(body: HTMLElement, data: AccountRisk): void {
  fill(
    body,
    table(['Level', 'Assets', 'Liabilities', 'Health', 'Ratio'], [levelRow('Maintenance', data.maintenance, 'maintenance'), levelRow('Initial', data.initial, 'initial')], { optional: [1, 2] }),
    h(
      'p',
      { class: 'muted small' },
      'Liquidated when maintenance health falls below zero. Withdrawals, borrows and new exposure need initial health of zero or more afterwards.',
    ),
  );
}

function drawBalances(body: HTMLElement, data: AccountJson): void {
  const rows = data.breakdown.flatMap((entry) =>
    entry.kind !== 'balance'
      ? []
      : [
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, entry.asset),
            h('td', { class: `num ${entry.side === 'liability' ? 'bad' : ''}` }, amount(entry.amount)),
            h('td', { class: 'num' }, price(entry.price)),
            h('td', { class: 'num' }, `${fixed(entry.weight.initial, 2)} / ${fixed(entry.weight.maintenance, 2)}`),
            h('td', { class: 'num' }, entry.side === 'collateral' ? usd(entry.maintenance.assets) : `−${usd(entry.maintenance.liabilities)}`),
          ),
        ],
  );
  fill(body, rows.length === 0 ? h('p', { class: 'muted' }, 'No balances.') : table(['Asset', 'Amount', 'Price', 'Weight init / maint', 'Counts (maint.)'], rows, { optional: [3], stack: true }));
}

function drawPositions(body: HTMLElement, data: AccountJson): void {
  const rows = data.breakdown.flatMap((entry) => {
    if (entry.kind !== 'perp') return [];
    const rank = data.perps.find((position) => position.market === entry.market)?.deleveragingRank ?? null;
    const short = entry.size.startsWith('-');
    return [
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, entry.market),
        h('td', { class: 'num' }, `${short ? 'short' : 'long'} ${amount(entry.size.replace(/^-/, ''))}`),
        h('td', { class: 'num' }, price(entry.entryPrice)),
        h('td', { class: 'num' }, price(entry.markPrice)),
        h('td', { class: `num ${entry.unrealizedPnl.startsWith('-') ? 'bad' : 'ok'}` }, usd(entry.unrealizedPnl, 2, { sign: true })),
        h('td', { class: 'num' }, `${fixed(entry.marginFraction.initial, 3)} / ${fixed(entry.marginFraction.maintenance, 3)}`),
        h('td', { class: 'num', title: 'Place in the deleveraging queue of its side (1 goes first when bad debt must be deleveraged)' }, rank === null ? '—' : `${rank.rank} of ${rank.of}`),
      ),
    ];
  });
  fill(
    body,
    rows.length === 0
      ? h('p', { class: 'muted' }, 'No open positions.')
      : [
          table(['Market', 'Size', 'Entry', 'Mark', 'Unrealised PnL', 'Margin init / maint', 'Deleveraging rank'], rows, { stack: true }),
          h('p', { class: 'muted small' }, 'Deleveraging rank: this position’s place in the queue of its side (1 goes first) if bad debt has to be deleveraged.'),
        ],
  );
}

function drawLiquidationPrices(body: HTMLElement, data: AccountJson): void {
  if (data.liquidationPrices === null) {
    fill(body, notice('Liquidatable now: maintenance health is below zero at current prices.'));
    return;
  }
  const rows = data.liquidationPrices.map((entry) =>
    h(
      'tr',
      { 'data-asset': entry.asset },
      h('th', { scope: 'row' }, entry.asset),
      h('td', { class: 'num' }, price(entry.current)),
      h('td', { class: 'num' }, entry.down === null ? 'never' : h('span', {}, price(entry.down), h('small', { class: 'muted' }, ` ${percentChange(entry.current, entry.down)}`))),
      h('td', { class: 'num' }, entry.up === null ? 'never' : h('span', {}, price(entry.up), h('small', { class: 'muted' }, ` ${percentChange(entry.current, entry.up)}`))),
    ),
  );
  fill(body, rows.length === 0 ? h('p', { class: 'muted' }, 'Exposed to no price.') : table(['Asset', 'Now', 'Liquidated at or below', 'Liquidated at or above'], rows, { stack: true }));
}

/** `#/account` without an id: open one by id, or pick among the closest to liquidation. */
function accountPicker(context: ViewContext, root: HTMLElement): () => void {
  const input = h('input', { type: 'text', name: 'account', placeholder: 'demo-001', 'aria-label': 'Account id', required: true, pattern: '[A-Za-z0-9_.:\\-]{1,64}' });
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  fill(
    root,
    h(
      'div',
      { class: 'grid' },
      card(
        'Open an account',
        {},
        h(
          'form',
          {
            class: 'row',
            onsubmit: (event: Event) => {
              event.preventDefault();
              location.hash = `#/account/${encodeURIComponent(input.value.trim())}`;
            },
          },
          input,
          h('button', { type: 'submit' }, 'Open'),
        ),
      ),
      card('Closest to liquidation', {}, list),
    ),
  );
  void context.api
    .get<Ranking>('/v1/risk/ranking?sort=ratio&order=asc&limit=10')
    .then((ranking) =>
      fill(
        list,
        h(
          'ul',
          { class: 'plain' },
          ranking.accounts.map((account) => h('li', {}, h('a', { href: `#/account/${encodeURIComponent(account.id)}` }, account.id), ' ', statusPill(account), h('span', { class: 'muted small' }, ` ratio ${ratio(account.maintenanceRatio)}`))),
        ),
      ),
    )
    .catch((error: unknown) => fill(list, notice((error as Error).message)));
  return () => {};
}
