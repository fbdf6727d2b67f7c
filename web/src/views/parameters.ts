/**
 * Parameters: the risk configuration in force (`GET /v1/config`), as tables, with the raw
 * JSON below. Editing, and a pre-flight of an edited configuration, are not in the page yet.
 */
import { card, fill, h, notice, table } from '../dom.ts';
import type { View } from '../context.ts';

type Json = Record<string, unknown>;

const LIQUIDATION_FIELDS: Readonly<Record<string, string>> = {
  targetMaintenanceRatio: 'A liquidation stops once the maintenance ratio reaches this (default: initial health ≥ 0)',
  dustUsd: 'A remainder below this is closed whole',
  maxShare: 'Largest share of a position or debt taken in one liquidation',
  insuranceShare: 'Share of each penalty paid to the insurance fund (the rest to the liquidator)',
  windowMs: 'Cascade window, milliseconds',
  notionalCapPerWindowUsd: 'Most notional liquidated per market or asset in one window, USD',
};

export const parametersView: View = (context, root) => {
  const body = h('div', { class: 'grid' }, card('Risk configuration', { class: 'wide' }, h('p', { class: 'muted' }, 'Loading…')));
  fill(root, body);
  void context.api
    .get<{ config: Json }>('/v1/config')
    .then(({ config }) => fill(body, ...sections(config)))
    .catch((error: unknown) => fill(body, card('Risk configuration', { class: 'wide' }, notice((error as Error).message))));
  return () => {};
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
      h('p', { class: 'muted small' }, 'Changed with POST /v1/config (admin key). This page does not edit a configuration or pre-flight an edited one yet.'),
      h('details', {}, h('summary', {}, 'JSON'), h('pre', { class: 'json' }, JSON.stringify(config, null, 2))),
    ),
  ];
}

function describeInterest(interest: Json): string {
  return `base ${text(interest.baseRate)}, kink at ${text(interest.optimalUtilization)} utilisation, slopes ${text(interest.slopeBelow)} / ${text(interest.slopeAbove)}, reserve ${text(interest.reserveFactor)}`;
}
