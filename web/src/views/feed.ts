/**
 * The liquidation feed, live: each liquidation with its plain-words explanation (written by
 * the engine), the prices it used, the health before and after, and its steps. New ones come
 * from the stream at once; their details follow from `GET /v1/liquidations`.
 */
import { amount, clock, fixed, price, usd } from '../decimal.ts';
import { card, fill, h, notice, pill, throttle } from '../dom.ts';
import type { View } from '../context.ts';
import type { Liquidation, StreamMessage } from '../types.ts';

const PAGE = 25;
const FALLBACK_POLL_MS = 10_000;
/** Items kept on the page; older ones are a click away. */
const ITEMS_MAX = 300;

export const feedView: View = (context, root) => {
  const { api, live } = context;
  const items = new Map<number, HTMLElement>();
  const list = h('ol', { class: 'feed', 'data-testid': 'feed' });
  const status = h('p', { class: 'muted' }, 'Loading…');
  const older = h('button', { type: 'button', class: 'more', onclick: () => void loadOlder() }, 'Show older');
  const total = h('span', { class: 'count', 'data-testid': 'liquidation-total' });
  fill(root, card('Liquidations', { class: 'wide feed-card' }, h('p', { class: 'muted' }, 'Newest first; new ones appear as they happen. ', total), status, list, older));

  /** The newest liquidation when the page opened: anything after it arrived while watching. */
  let baselineSeq: number | null = null;
  const place = (liquidation: Liquidation) => {
    const element = liquidationItem(liquidation);
    if (baselineSeq !== null && liquidation.seq > baselineSeq) element.dataset.live = '1';
    const existing = items.get(liquidation.seq);
    if (existing !== undefined) {
      if (existing.dataset.live === '1') element.dataset.live = '1';
      existing.replaceWith(element);
    } else {
      const next = [...items.keys()].filter((seq) => seq < liquidation.seq).sort((a, b) => b - a)[0];
      const before = next === undefined ? null : (items.get(next) ?? null);
      list.insertBefore(element, before);
    }
    items.set(liquidation.seq, element);
  };

  const trimItems = () => {
    const seqs = [...items.keys()].sort((a, b) => b - a);
    for (const seq of seqs.slice(ITEMS_MAX)) {
      items.get(seq)?.remove();
      items.delete(seq);
    }
  };

  const loadNewest = async () => {
    try {
      const body = await api.get<{ total: number; liquidations: Liquidation[] }>(`/v1/liquidations?limit=${PAGE}`);
      total.textContent = `${body.total} since the service started.`;
      baselineSeq ??= body.liquidations[0]?.seq ?? 0;
      for (const liquidation of body.liquidations) {
        const known = items.get(liquidation.seq);
        // Details of a liquidation the stream announced, or one that happened between refreshes.
        if (known === undefined || known.dataset.pending === '1') place(liquidation);
      }
      trimItems();
      status.replaceChildren();
      if (items.size === 0) fill(status, 'No liquidation yet. They appear here as they happen.');
      older.hidden = body.liquidations.length < PAGE;
    } catch (error) {
      fill(status, notice(`Liquidations: ${(error as Error).message}`));
    }
  };

  const loadOlder = async () => {
    const oldest = Math.min(...items.keys());
    if (!Number.isFinite(oldest)) return;
    try {
      const body = await api.get<{ liquidations: Liquidation[] }>(`/v1/liquidations?limit=${PAGE}&before=${oldest}`);
      for (const liquidation of body.liquidations) place(liquidation);
      older.hidden = body.liquidations.length < PAGE;
    } catch (error) {
      fill(status, notice(`Older liquidations: ${(error as Error).message}`));
    }
  };

  const fetchDetails = throttle(() => void loadNewest(), 1_000);
  const onMessage = (message: StreamMessage) => {
    if (!('topic' in message) || message.type !== 'liquidation' || items.has(message.seq)) return;
    // Shown at once with the engine's explanation; the details follow.
    const element = h(
      'li',
      { class: 'liq', 'data-seq': message.seq, 'data-live': '1', 'data-pending': '1' },
      h('div', { class: 'liq-head' }, h('span', { class: 'time' }, clock(Date.now())), accountLink(message.account), pill('new')),
      h('p', { class: 'explanation' }, message.explanation),
    );
    const next = [...items.keys()].filter((seq) => seq < message.seq).sort((a, b) => b - a)[0];
    list.insertBefore(element, next === undefined ? null : (items.get(next) ?? null));
    items.set(message.seq, element);
    status.replaceChildren();
    fetchDetails();
  };

  const unsubscribe = live.subscribe(['liquidations']);
  const unlisten = live.onMessage(onMessage);
  void loadNewest();
  // Should the stream be down, the feed still moves.
  const timer = window.setInterval(() => {
    if (live.state !== 'live') void loadNewest();
  }, FALLBACK_POLL_MS);
  return () => {
    window.clearInterval(timer);
    fetchDetails.cancel();
    unsubscribe();
    unlisten();
  };
};

function accountLink(account: string): HTMLElement {
  return h('a', { class: 'account', href: `#/account/${encodeURIComponent(account)}` }, account);
}

/** One liquidation: what happened, in words and in numbers. */
export function liquidationItem(liquidation: Liquidation): HTMLElement {
  const before = liquidation.healthBefore.maintenance;
  const after = liquidation.healthAfter.maintenance;
  return h(
    'li',
    { class: 'liq', 'data-seq': liquidation.seq },
    h(
      'div',
      { class: 'liq-head' },
      h('span', { class: 'time' }, clock(liquidation.atMs)),
      accountLink(liquidation.account),
      liquidation.bankrupt ? pill('liquidatable', 'bankrupt') : null,
      liquidation.targetReached ? pill('healthy', 'target reached') : pill('warning', 'partial'),
      h('span', { class: 'muted small' }, `by ${liquidation.liquidator}`),
    ),
    h('p', { class: 'explanation' }, liquidation.explanation),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Prices used'),
      h('dd', {}, h('ul', { class: 'chips' }, liquidation.prices.map((entry) => h('li', {}, `${entry.asset} ${price(entry.price)} ± ${price(entry.confidence)}`)))),
      h('dt', {}, 'Maintenance health'),
      h('dd', {}, `${usd(before.health, 2, { sign: true })} → ${usd(after.health, 2, { sign: true })}`),
      h('dt', {}, 'Penalties'),
      h('dd', {}, usd(liquidation.penaltiesUsd)),
      /^0(\.0+)?$/.test(liquidation.badDebtUsd) ? null : [h('dt', {}, 'Bad debt'), h('dd', { class: 'bad' }, usd(liquidation.badDebtUsd))],
    ),
    liquidation.steps.length === 0
      ? null
      : h('details', { class: 'steps' }, h('summary', {}, `${liquidation.steps.length} step${liquidation.steps.length === 1 ? '' : 's'}`), h('ol', {}, liquidation.steps.map((step) => h('li', {}, stepWords(step))))),
  );
}

/** A step's fields in short words (the explanation above is the engine's own). */
function stepWords(step: Readonly<Record<string, unknown>>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(step)) {
    if (key === 'kind' || value === null || typeof value === 'object') continue;
    const text = String(value);
    const shown = /^-?[0-9]+\.[0-9]{9,}$/.test(text) ? fixed(text, 4) : /^-?[0-9]+(\.[0-9]+)?$/.test(text) ? amount(text) : text;
    parts.push(`${key} ${shown}`);
  }
  return `${String(step.kind)}: ${parts.join(', ')}`;
}
