/**
 * Market impact of liquidation sales, fed back into the prices of the following steps.
 *
 * What liquidations hand to the liquidator has to be sold (a long perp, seized collateral) or
 * bought back (a short perp, a repaid debt) on the market. Per asset and step, the net USD
 * flow Q moves the price against it by the concession
 *
 *     c(Q) = 1 − 1 / (1 + 0.01 × |Q| / depth)
 *
 * where `depth` is the notional the market absorbs for a 1% move: about 1% at Q = depth, 9%
 * at 10 × depth, 50% at 100 × depth, never 100%. It grows with the notional liquidated and is
 * linear for small flows (Kyle's lambda), saturating for large ones. Sales multiply the
 * asset's impact factor by 1 − c, purchases by 1 + c; between steps the factor's logarithm
 * decays with a half-life (the book refills). The next prices are the path's times the factor.
 *
 * Floats: this is a model of a market; impacted prices leave as decimal strings.
 */
import type { LedgerEvent } from '../core/ledger/events.ts';
import type { RiskConfig } from '../core/config.ts';
import { formatDecimal, WAD_DECIMALS } from '../core/fixed.ts';
import { formatSignificant } from '../oracle/feeds/simulated.ts';

export interface ImpactOptions {
  /** USD notional per step that moves an asset's price by 1%; absent: no impact on that asset. */
  readonly depthUsd: ReadonlyMap<string, number>;
  /** Half-life of the impact, ms. */
  readonly halfLifeMs: number;
}

/** Share of an asset's gross exposure in the book that moves its price 1% (the default depth). */
export const DEFAULT_DEPTH_SHARE = 0.05;
export const DEFAULT_IMPACT_HALF_LIFE_MS = 4 * 3_600_000;

export class MarketImpact {
  private readonly factor = new Map<string, number>();
  private readonly flowUsd = new Map<string, number>();
  private lastMs: number | null = null;

  constructor(private readonly options: ImpactOptions) {}

  /** Adds the flows of a liquidation's events, valued at the ledger's prices. */
  record(events: readonly LedgerEvent[], prices: ReadonlyMap<string, { readonly priceWad: bigint }>, config: RiskConfig): void {
    const usd = (asset: string, amount: bigint): number => {
      const decimals = config.assets.get(asset)?.decimals ?? 0;
      const price = Number(prices.get(asset)?.priceWad ?? 0n) / 1e18;
      return (Number(amount) / 10 ** decimals) * price;
    };
    for (const event of events) {
      switch (event.type) {
        case 'PositionLiquidated': {
          const base = config.markets.get(event.step.market)?.base;
          // The liquidator took over a long: it sells; a short: it buys back.
          if (base !== undefined) this.add(base, -usd(base, event.step.size));
          break;
        }
        case 'CollateralSeized':
          this.add(event.step.collateralAsset, -usd(event.step.collateralAsset, event.step.seized));
          this.add(event.step.debtAsset, usd(event.step.debtAsset, event.step.repaid));
          break;
        case 'AuctionTaken':
          this.add(event.collateralAsset, -usd(event.collateralAsset, event.amount));
          break;
        default:
          break;
      }
    }
  }

  /** Net flow recorded this step per asset, USD (negative: sales). */
  flows(): ReadonlyMap<string, number> {
    return this.flowUsd;
  }

  /**
   * Closes a step at `nowMs`: this step's flows move the factors, which then decay until the
   * next step. Returns the concession applied per asset (signed: negative pushed the price down).
   */
  closeStep(nowMs: number): Map<string, number> {
    this.decayTo(nowMs);
    const applied = new Map<string, number>();
    for (const [asset, flow] of this.flowUsd) {
      const depth = this.options.depthUsd.get(asset);
      if (depth === undefined || !(depth > 0) || flow === 0) continue;
      const concession = 1 - 1 / (1 + (0.01 * Math.abs(flow)) / depth);
      const before = this.factor.get(asset) ?? 1;
      this.factor.set(asset, flow < 0 ? before * (1 - concession) : before * (1 + concession));
      applied.set(asset, flow < 0 ? -concession : concession);
    }
    this.flowUsd.clear();
    return applied;
  }

  /** The path's price moved by the asset's impact factor, decayed to `nowMs`, as a decimal string. */
  price(asset: string, pathPriceWad: bigint, nowMs: number): string {
    this.decayTo(nowMs);
    const factor = this.factor.get(asset) ?? 1;
    if (factor === 1) return formatDecimal(pathPriceWad, WAD_DECIMALS);
    const impacted = (Number(pathPriceWad) / 1e18) * factor;
    return formatSignificant(Math.max(impacted, 1e-18), 12);
  }

  factorOf(asset: string): number {
    return this.factor.get(asset) ?? 1;
  }

  private add(asset: string, usd: number): void {
    if (!Number.isFinite(usd) || usd === 0) return;
    this.flowUsd.set(asset, (this.flowUsd.get(asset) ?? 0) + usd);
  }

  private decayTo(nowMs: number): void {
    if (this.lastMs === null || nowMs <= this.lastMs) {
      this.lastMs ??= nowMs;
      return;
    }
    const keep = Math.pow(0.5, (nowMs - this.lastMs) / this.options.halfLifeMs);
    for (const [asset, factor] of this.factor) {
      const decayed = Math.exp(Math.log(factor) * keep);
      // Within one part in a billion of no impact: none (keeps exact path prices).
      this.factor.set(asset, Math.abs(decayed - 1) < 1e-9 ? 1 : decayed);
    }
    this.lastMs = nowMs;
  }
}

/** Default depth per asset: a share of its gross exposure in the book (the quote has none). */
export function defaultDepth(exposureUsd: ReadonlyMap<string, number>, quote: string, share = DEFAULT_DEPTH_SHARE): Map<string, number> {
  const depth = new Map<string, number>();
  for (const [asset, usd] of exposureUsd) if (asset !== quote && usd > 0) depth.set(asset, usd * share);
  return depth;
}
