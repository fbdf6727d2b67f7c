/**
 * Screening, then exact confirmation: which accounts are liquidatable or in warning after a
 * price move, for a whole book at every step, without valuing every account exactly.
 *
 * The screen keeps each user account as a row of float64 legs (balances as principal over
 * their interest index, perp positions with their entry price) and values it at the
 * maintenance level from per-asset factors computed once per step: the risk model of
 * src/core/health.ts in floats. Floats decide nothing: a row whose health (or distance to the
 * warning ratio) is within a tolerance of zero, far wider than the float error, is valued
 * exactly by the core (`evaluateAccount`), and the ledger re-checks every liquidation anyway.
 * So the sets and counts it returns are the exact ones.
 *
 * A row is rebuilt from the ledger when a command touches its account; a socialised loss
 * moves the supply index, which the rows read at each step.
 */
import { evaluateAccount } from '../core/health.ts';
import { accountView, isSystemAccount, pendingFunding, type AccountRecord, type LedgerState } from '../core/ledger/state.ts';
import { exposedAssets } from '../core/liquidation-price.ts';

interface BalanceLeg {
  readonly asset: number;
  /** Settled amount in whole units divided by the index it was settled at. */
  readonly principal: number;
}

interface PerpLeg {
  readonly market: number;
  /** Whole units of the base asset, signed. */
  readonly size: number;
  readonly entry: number;
}

interface Row {
  readonly id: string;
  balances: BalanceLeg[];
  perps: PerpLeg[];
  /** Pending funding into the quote balance, whole units. */
  pendingQuote: number;
  /** Assets the account is exposed to (for the unhealthy-price check). */
  exposed: readonly string[];
}

export interface ScreenStatus {
  readonly id: string;
  readonly liquidatable: boolean;
  readonly warning: boolean;
  /** Maintenance assets / liabilities as a float (charts); null without liabilities. */
  readonly ratio: number | null;
}

export interface ScreenResult {
  /** Liquidatable accounts, in row order. */
  readonly liquidatable: readonly string[];
  /** Accounts in warning and not liquidatable. */
  readonly warningCount: number;
  /** Maintenance ratio of every row (NaN: no liabilities), for the distribution charts. */
  readonly ratios: Float64Array;
  /** Rows valued exactly because the float value was too close to a threshold. */
  readonly exactEvaluations: number;
}

/** Relative tolerance of the float valuation: orders of magnitude above its error (~1e-15). */
const RELATIVE_TOLERANCE = 1e-9;
/** Absolute tolerance, USD: covers the core's rounding to the wei (once per side of each total). */
const ABSOLUTE_TOLERANCE_USD = 1e-6;

export class RiskScreen {
  private readonly rows: Row[] = [];
  private readonly rowOf = new Map<string, number>();
  private readonly assetIndex = new Map<string, number>();
  private readonly marketIndex = new Map<string, number>();
  private readonly assetIds: string[] = [];
  private readonly marketIds: string[] = [];
  exactEvaluationsTotal = 0;

  constructor(private readonly state: LedgerState) {
    for (const id of state.config.assets.keys()) this.assetSlot(id);
    for (const id of state.config.markets.keys()) this.marketSlot(id);
    for (const record of state.accounts.values()) this.refresh(record.id);
  }

  get size(): number {
    return this.rows.length;
  }

  ids(): readonly string[] {
    return this.rows.map((row) => row.id);
  }

  exposedAssets(id: string): readonly string[] {
    const index = this.rowOf.get(id);
    return index === undefined ? [] : (this.rows[index]?.exposed ?? []);
  }

  /** Rebuilds the row of an account from the ledger (after a command touched it). */
  refresh(id: string): void {
    if (isSystemAccount(id)) return;
    const record = this.state.accounts.get(id);
    if (record === undefined) return;
    const row = this.buildRow(record);
    const index = this.rowOf.get(id);
    if (index === undefined) {
      this.rowOf.set(id, this.rows.length);
      this.rows.push(row);
    } else {
      this.rows[index] = row;
    }
  }

  /** Every row against the current prices and configuration of the ledger. */
  screen(): ScreenResult {
    const factors = this.factors();
    const warningRatio = Number(this.state.config.warningRatioWad) / 1e18;
    const liquidatable: string[] = [];
    const ratios = new Float64Array(this.rows.length);
    let warningCount = 0;
    let exactEvaluations = 0;
    for (let index = 0; index < this.rows.length; index += 1) {
      const row = this.rows[index]!;
      const value = this.value(row, factors);
      const health = value.assets - value.liabilities;
      const tolerance = RELATIVE_TOLERANCE * (value.assets + value.liabilities) + ABSOLUTE_TOLERANCE_USD + value.slack;
      const warningGap = value.assets - warningRatio * value.liabilities;
      const warningTolerance =
        RELATIVE_TOLERANCE * (value.assets + warningRatio * value.liabilities) + ABSOLUTE_TOLERANCE_USD + value.slack;
      let isLiquidatable = health < 0;
      let isWarning = value.liabilities > 0 && warningGap < 0;
      // No liabilities in floats means none exactly (any debt or position gives a positive
      // float): health is the assets, never negative, and there is no ratio to warn on.
      const debtFree = value.liabilities === 0 && value.slack === 0;
      if (!debtFree && (Math.abs(health) <= tolerance || Math.abs(warningGap) <= warningTolerance)) {
        const exact = this.exact(row.id);
        exactEvaluations += 1;
        if (exact !== null) {
          isLiquidatable = exact.liquidatable;
          isWarning = exact.warning;
        }
      }
      ratios[index] = value.liabilities > 0 ? value.assets / value.liabilities : Number.NaN;
      if (isLiquidatable) liquidatable.push(row.id);
      else if (isWarning) warningCount += 1;
    }
    this.exactEvaluationsTotal += exactEvaluations;
    return { liquidatable, warningCount, ratios, exactEvaluations };
  }

  /** The core's exact evaluation of one account (null when it cannot be valued). */
  exact(id: string): { liquidatable: boolean; warning: boolean; maintenanceHealthUsd: bigint } | null {
    const record = this.state.accounts.get(id);
    if (record === undefined) return null;
    const health = evaluateAccount(accountView(this.state, record), this.state.prices, this.state.config);
    if (!health.ok) return null;
    return {
      liquidatable: health.value.liquidatable,
      warning: health.value.warning,
      maintenanceHealthUsd: health.value.maintenance.healthUsd,
    };
  }

  // ── Internals ────────────────────────────────────────────────────────────────────────

  private assetSlot(id: string): number {
    let index = this.assetIndex.get(id);
    if (index === undefined) {
      index = this.assetIds.length;
      this.assetIndex.set(id, index);
      this.assetIds.push(id);
    }
    return index;
  }

  private marketSlot(id: string): number {
    let index = this.marketIndex.get(id);
    if (index === undefined) {
      index = this.marketIds.length;
      this.marketIndex.set(id, index);
      this.marketIds.push(id);
    }
    return index;
  }

  private buildRow(record: AccountRecord): Row {
    const config = this.state.config;
    const balances: BalanceLeg[] = [];
    for (const [asset, balance] of record.balances) {
      const decimals = config.assets.get(asset)?.decimals ?? 0;
      const whole = Number(balance.amount) / 10 ** decimals;
      const index = Number(balance.indexWad) / 1e18;
      balances.push({ asset: this.assetSlot(asset), principal: index > 0 ? whole / index : whole });
    }
    const perps: PerpLeg[] = [];
    let pending = 0n;
    for (const position of record.perps.values()) {
      const market = config.markets.get(position.market);
      const decimals = (market && config.assets.get(market.base)?.decimals) ?? 0;
      perps.push({
        market: this.marketSlot(position.market),
        size: Number(position.size) / 10 ** decimals,
        entry: Number(position.entryPriceWad) / 1e18,
      });
      pending += pendingFunding(this.state, position);
    }
    const quoteDecimals = config.assets.get(config.quote)?.decimals ?? 0;
    const view = accountView(this.state, record);
    return {
      id: record.id,
      balances,
      perps,
      pendingQuote: Number(pending) / 10 ** quoteDecimals,
      exposed: exposedAssets(view, config),
    };
  }

  private factors(): Factors {
    const { config, prices, assets } = this.state;
    const assetCount = this.assetIds.length;
    const collateralPerUnit = new Float64Array(assetCount);
    const debtPerUnit = new Float64Array(assetCount);
    const supplyIndex = new Float64Array(assetCount);
    const borrowIndex = new Float64Array(assetCount);
    this.assetIds.forEach((id, index) => {
      const asset = config.assets.get(id);
      const price = prices.get(id);
      const totals = assets.get(id);
      supplyIndex[index] = totals === undefined ? 1 : Number(totals.supplyIndexWad) / 1e18;
      borrowIndex[index] = totals === undefined ? 1 : Number(totals.borrowIndexWad) / 1e18;
      if (asset === undefined || price === undefined) {
        collateralPerUnit[index] = Number.NaN;
        debtPerUnit[index] = Number.NaN;
        return;
      }
      const spot = Number(price.priceWad) / 1e18;
      const confidence = Number(price.confidenceWad) / 1e18;
      collateralPerUnit[index] = Math.max(spot - confidence, 0) * (Number(asset.collateral?.maintenanceWad ?? 0n) / 1e18);
      debtPerUnit[index] = (spot + confidence) * (Number(asset.liability?.maintenanceWad ?? 10n ** 18n) / 1e18);
    });
    const marketCount = this.marketIds.length;
    const mark = new Float64Array(marketCount);
    const baseFraction = new Float64Array(marketCount);
    const scaling = new Float64Array(marketCount);
    const pnlWeight = new Float64Array(marketCount);
    this.marketIds.forEach((id, index) => {
      const market = config.markets.get(id);
      const price = market && prices.get(market.base);
      if (market === undefined || price === undefined) {
        mark[index] = Number.NaN;
        return;
      }
      mark[index] = Number(price.markPriceWad ?? price.priceWad) / 1e18;
      baseFraction[index] = Number(market.marginFraction.maintenanceWad) / 1e18;
      scaling[index] = Number(market.sizeScalingFactorWad) / 1e18;
      pnlWeight[index] = Number(market.positivePnlWeight.maintenanceWad) / 1e18;
    });
    const quote = this.assetIndex.get(config.quote) ?? -1;
    return { collateralPerUnit, debtPerUnit, supplyIndex, borrowIndex, mark, baseFraction, scaling, pnlWeight, quote };
  }

  /** Maintenance assets and liabilities of a row in floats; infinite slack when it cannot be valued so. */
  private value(row: Row, f: Factors): { assets: number; liabilities: number; slack: number } {
    let assets = 0;
    let liabilities = 0;
    let quoteSeen = false;
    for (const leg of row.balances) {
      let amount = leg.principal * (leg.principal > 0 ? f.supplyIndex[leg.asset]! : f.borrowIndex[leg.asset]!);
      if (leg.asset === f.quote) {
        amount += row.pendingQuote;
        quoteSeen = true;
      }
      if (amount > 0) assets += amount * f.collateralPerUnit[leg.asset]!;
      else if (amount < 0) liabilities -= amount * f.debtPerUnit[leg.asset]!;
    }
    if (!quoteSeen && row.pendingQuote !== 0 && f.quote >= 0) {
      if (row.pendingQuote > 0) assets += row.pendingQuote * f.collateralPerUnit[f.quote]!;
      else liabilities -= row.pendingQuote * f.debtPerUnit[f.quote]!;
    }
    for (const leg of row.perps) {
      const mark = f.mark[leg.market]!;
      const pnl = leg.size * (mark - leg.entry);
      const notional = Math.abs(leg.size) * mark;
      let fraction = f.baseFraction[leg.market]!;
      const factor = f.scaling[leg.market]!;
      if (factor > 0) fraction = Math.max(fraction, factor * Math.sqrt(notional));
      if (pnl >= 0) assets += pnl * f.pnlWeight[leg.market]!;
      else liabilities -= pnl;
      liabilities += notional * fraction;
    }
    // A row holding something without a price (NaN) is valued exactly.
    if (Number.isNaN(assets) || Number.isNaN(liabilities)) return { assets: 0, liabilities: 0, slack: Number.POSITIVE_INFINITY };
    return { assets, liabilities, slack: 0 };
  }
}

interface Factors {
  readonly collateralPerUnit: Float64Array;
  readonly debtPerUnit: Float64Array;
  readonly supplyIndex: Float64Array;
  readonly borrowIndex: Float64Array;
  readonly mark: Float64Array;
  readonly baseFraction: Float64Array;
  readonly scaling: Float64Array;
  readonly pnlWeight: Float64Array;
  readonly quote: number;
}
