/**
 * Planning a liquidation, pure: the minimal steps that bring a liquidatable account back to
 * the target, or, for a bankrupt account, the steps that close it out and cover its deficit.
 *
 * Normal path (equity at mid prices ≥ 0):
 *   1. perp positions, largest maintenance requirement first, pass to the liquidator at the
 *      mark price; the account pays the market's liquidation fee on the notional taken;
 *   2. debts are repaid by the liquidator against collateral worth repaid × (1 + penalty),
 *      pairs ordered by health restored per unit of penalty;
 *   each step takes the smallest amount that reaches the target, within the caps.
 * Bankrupt path (equity < 0): the insurance fund pays what it can of the deficit; positions
 * close whole (to the liquidator at mark when the deficit is covered, otherwise against
 * ranked opposite positions at the bankruptcy price); collateral repays debts without
 * penalty; what remains of the debts is covered by the fund or written off against lenders.
 *
 * Amounts come in closed form: target health is piecewise linear in a step's amount, so the
 * secant through "nothing" and "everything" gives the amount, which exact evaluation confirms
 * (bisection between confirmed bounds only absorbs rounding and kinks).
 */
import { balanceOf, type Account } from '../account.ts';
import { compareIds } from '../order.ts';
import type { RiskConfig } from '../config.ts';
import { abs, divDown, divUp, min, mulDivDown, mulDivUp, WAD } from '../fixed.ts';
import { evaluateAccount, explainAccount, type AccountHealth, type LevelHealth, type ValuationError } from '../health.ts';
import { priceHigh, priceLow, type PriceBook } from '../prices.ts';
import { err, ok, type Result } from '../result.ts';
import {
  applyMovements,
  movementsOf,
  type LiquidationStep,
  type Parties,
  type StepRule,
  type Views,
} from './steps.ts';
import { startPrice } from './auction.ts';

export interface PlanInput {
  readonly parties: Parties;
  /** Views of the account, the liquidator, the insurance fund and the lenders' pool. */
  readonly views: Views;
  readonly prices: PriceBook;
  readonly config: RiskConfig;
  /** Opposite positions in `market` to deleverage against, best-ranked first (see rank.ts). */
  readonly deleverageCandidates: (market: string, accountSize: bigint) => Iterable<Account>;
  /** Liquidated notional still allowed in the current window, per market or collateral asset. */
  readonly roomUsd: ReadonlyMap<string, bigint>;
  /** A keeper's cap on the notional it takes over, USD wad. */
  readonly keeperLimitUsd?: bigint;
}

export interface LiquidationPlan {
  readonly steps: readonly LiquidationStep[];
  readonly views: Views;
  readonly healthBefore: AccountHealth;
  readonly healthAfter: AccountHealth;
  readonly bankrupt: boolean;
  readonly targetReached: boolean;
  /** Notional taken per market or collateral asset, for the cascade window. */
  readonly notionalByKey: ReadonlyMap<string, bigint>;
  /** Markets or assets a limit kept the plan from touching at all (the rule says which). */
  readonly untouched: readonly { readonly key: string; readonly rule: StepRule }[];
}

export type PlanError =
  | ValuationError
  | { readonly code: 'NOT_LIQUIDATABLE'; readonly maintenance: LevelHealth }
  | { readonly code: 'LIQUIDATION_CAPPED' | 'LIQUIDATION_INEFFECTIVE'; readonly account: string };

export function planLiquidation(input: PlanInput): Result<LiquidationPlan, PlanError> {
  const account = viewOf(input.views, input.parties.account);
  const before = evaluateAccount(account, input.prices, input.config);
  if (!before.ok) return before;
  if (!before.value.liquidatable) return err({ code: 'NOT_LIQUIDATABLE', maintenance: before.value.maintenance });

  const planner = new Planner(input);
  const bankrupt = equityAtMid(account, input.prices, input.config) < 0n;
  if (bankrupt) planner.closeBankrupt();
  else planner.restoreToTarget();
  planner.coverBadDebt();
  if (planner.steps.length === 0) {
    // Nothing to do: either a limit left no room, or no step would restore any health (a
    // collateral's (1 + penalty) × weight at or above the debt's weight).
    const code = planner.untouched.length > 0 ? 'LIQUIDATION_CAPPED' : 'LIQUIDATION_INEFFECTIVE';
    return err({ code, account: input.parties.account });
  }

  const after = evaluateAccount(planner.account(), input.prices, input.config);
  if (!after.ok) return after;
  return ok({
    steps: planner.steps,
    views: planner.views,
    healthBefore: before.value,
    healthAfter: after.value,
    bankrupt,
    targetReached: targetHealth(after.value, input.config) >= 0n,
    notionalByKey: planner.notionalByKey,
    untouched: planner.untouched,
  });
}

/**
 * Health against the liquidation target: ≥ 0 exactly when the target is met. For a ratio
 * target r it is assets − r × liabilities at maintenance (scaled by 1e18, no division).
 */
export function targetHealth(health: AccountHealth, config: RiskConfig): bigint {
  const target = config.liquidation.target;
  if (target.kind === 'initial') return health.initial.healthUsd;
  return health.maintenance.assetsUsd * WAD - target.ratioWad * health.maintenance.liabilitiesUsd;
}

/** Σ balances at mid prices + Σ perp PnL at mark, rounded down: what the account is worth. */
export function equityAtMid(account: Account, prices: PriceBook, config: RiskConfig): bigint {
  let pnlUsd = 0n;
  let equityUsd = 0n;
  for (const [asset, amount] of account.balances) {
    const price = prices.get(asset);
    const unit = config.assets.get(asset)?.unit;
    if (price === undefined || unit === undefined) continue;
    equityUsd += divDown(amount * price.priceWad, unit);
  }
  for (const position of account.perps.values()) {
    const market = config.markets.get(position.market);
    const base = market && config.assets.get(market.base);
    const price = market && prices.get(market.base);
    if (base === undefined || price === undefined) continue;
    pnlUsd += divDown(position.size * (price.priceWad - position.entryPriceWad), base.unit);
  }
  return equityUsd + pnlUsd;
}

class Planner {
  readonly steps: LiquidationStep[] = [];
  views: Views;
  readonly notionalByKey = new Map<string, bigint>();
  readonly untouched: { key: string; rule: StepRule }[] = [];
  private takenUsd = 0n;
  /** An auction settles the rest over time: the plan stops there. */
  private auctionStarted = false;
  private readonly config: RiskConfig;
  private readonly prices: PriceBook;

  constructor(private readonly input: PlanInput) {
    this.views = input.views;
    this.config = input.config;
    this.prices = input.prices;
  }

  account(): Account {
    return viewOf(this.views, this.input.parties.account);
  }

  // ── Normal path ──────────────────────────────────────────────────────────────────────

  restoreToTarget(): void {
    for (const market of this.perpsByRequirement()) {
      if (this.targetMet()) return;
      this.reducePerp(market);
    }
    const exhausted = new Set<string>();
    while (!this.targetMet() && !this.auctionStarted) {
      const pair = this.bestPair(exhausted);
      if (pair === null) return;
      exhausted.add(`${pair.debt}/${pair.collateral}`);
      this.repayDebt(pair.debt, pair.collateral);
    }
  }

  private reducePerp(marketId: string): void {
    const position = this.account().perps.get(marketId);
    const market = this.config.markets.get(marketId);
    const price = market && this.prices.get(market.base);
    const base = market && this.config.assets.get(market.base);
    if (position === undefined || market === undefined || price === undefined || base === undefined) return;
    const sizeAbs = abs(position.size);
    const sign = position.size > 0n ? 1n : -1n;
    const notionalOf = (size: bigint): bigint => divUp(size * price.priceWad, base.unit);
    const bound = this.bound(sizeAbs, notionalOf(sizeAbs), marketId, (usd) => divDown(usd * base.unit, price.priceWad));
    if (bound.amount === 0n) {
      this.untouched.push({ key: marketId, rule: bound.rule });
      return;
    }
    const stepFor = (size: bigint, rule: StepRule): LiquidationStep => {
      const penalty = this.perpPenalty(size, price.priceWad, market.liquidationFeeWad, base.unit);
      return {
        kind: 'perp',
        market: marketId,
        size: sign * size,
        priceWad: price.priceWad,
        penalty,
        toInsurance: mulDivDown(penalty, this.config.liquidation.insuranceShareWad, WAD),
        notionalUsd: notionalOf(size),
        rule,
      };
    };
    const sized = this.sizeStep(bound, (size) => stepFor(size, 'MINIMAL_TO_TARGET'), (size) =>
      notionalOf(sizeAbs - size) < this.config.liquidation.dustUsd,
    );
    this.commit(stepFor(sized.amount, sized.rule), marketId);
  }

  private repayDebt(debtAsset: string, collateralAsset: string): void {
    const debt = -balanceOf(this.account(), debtAsset);
    const collateral = balanceOf(this.account(), collateralAsset);
    if (debt <= 0n || collateral <= 0n) return;
    const penaltyWad = this.config.assets.get(collateralAsset)?.liquidationPenaltyWad ?? 0n;
    const swap = this.swapPricing(debtAsset, collateralAsset, penaltyWad);
    const affordable = min(debt, swap.maxRepaidFor(collateral));
    if (affordable === 0n) return;
    const bound = this.bound(affordable, swap.valueOf(affordable), collateralAsset, swap.repaidForValue, {
      natural: debt,
      naturalValueUsd: swap.valueOf(debt),
    });
    if (bound.amount === 0n) {
      this.untouched.push({ key: collateralAsset, rule: bound.rule });
      return;
    }
    const sized = this.sizeStep(bound, (repaid) => swap.step(repaid, 'MINIMAL_TO_TARGET'), (repaid) =>
      swap.valueOf(debt - repaid) < this.config.liquidation.dustUsd,
    );
    const auction = this.config.assets.get(collateralAsset)?.auction;
    const collateralPrice = this.prices.get(collateralAsset)?.priceWad;
    if (auction === undefined || collateralPrice === undefined) {
      this.commit(swap.step(sized.amount, sized.rule), collateralAsset);
      return;
    }
    // Auction mode: the whole balance goes up for sale; takers raise the same repayment a
    // swap would have made, plus the penalty, and the rest of the lot comes back.
    this.commit(
      {
        kind: 'auction',
        collateralAsset,
        lot: collateral,
        debtAsset,
        tab: mulDivUp(sized.amount, WAD + penaltyWad, WAD),
        penaltyWad,
        startPriceWad: startPrice(auction, collateralPrice),
        rule: sized.rule,
      },
      collateralAsset,
    );
    this.auctionStarted = true;
  }

  // ── Bankrupt path ────────────────────────────────────────────────────────────────────

  closeBankrupt(): void {
    const quote = this.config.quote;
    const deficitUsd = -equityAtMid(this.account(), this.prices, this.config);
    const quotePrice = this.prices.get(quote)?.priceWad;
    const quoteUnit = this.config.assets.get(quote)?.unit;
    if (quotePrice !== undefined && quoteUnit !== undefined && deficitUsd > 0n) {
      const fund = balanceOf(viewOf(this.views, this.input.parties.insurance), quote);
      const covered = min(fund > 0n ? fund : 0n, mulDivUp(deficitUsd, quoteUnit, quotePrice));
      if (covered > 0n) this.commit({ kind: 'insurance', asset: quote, amount: covered, rule: 'INSURANCE_COVER' });
    }
    const residualUsd = -equityAtMid(this.account(), this.prices, this.config);
    this.closePositionsAtBankruptcy(residualUsd > 0n ? residualUsd : 0n);
    this.repayAllDebtWithoutPenalty();
  }

  private closePositionsAtBankruptcy(residualUsd: bigint): void {
    const positions = [...this.account().perps.values()].sort((a, b) => compareIds(a.market, b.market));
    const notionals = positions.map((position) => this.notionalOf(position.market, abs(position.size)));
    const totalNotional = notionals.reduce((sum, value) => sum + value, 0n);
    let allocated = 0n;
    positions.forEach((position, index) => {
      const market = this.config.markets.get(position.market);
      const base = market && this.config.assets.get(market.base);
      const price = market && this.prices.get(market.base);
      if (base === undefined || price === undefined) return;
      const last = index === positions.length - 1;
      const shareUsd =
        residualUsd === 0n ? 0n : last ? residualUsd - allocated : mulDivUp(residualUsd, notionals[index] ?? 0n, totalNotional);
      allocated += shareUsd;
      if (shareUsd === 0n) {
        this.commit(
          { kind: 'perp', market: position.market, size: position.size, priceWad: price.priceWad, penalty: 0n, toInsurance: 0n, notionalUsd: notionals[index] ?? 0n, rule: 'BANKRUPTCY_CLOSE' },
          position.market,
        );
        return;
      }
      // The counterparties pay the deficit through the price: a long is sold above the mark,
      // a short bought back below it, by exactly the share per unit (rounded up).
      const adjustmentWad = mulDivUp(shareUsd, base.unit, abs(position.size));
      const bankruptcyPriceWad =
        position.size > 0n ? price.priceWad + adjustmentWad : price.priceWad - adjustmentWad > 0n ? price.priceWad - adjustmentWad : 1n;
      this.deleverage(position.market, position.size, bankruptcyPriceWad);
    });
  }

  private deleverage(market: string, size: bigint, priceWad: bigint): void {
    let remaining = abs(size);
    const sign = size > 0n ? 1n : -1n;
    for (const candidate of this.input.deleverageCandidates(market, size)) {
      if (!this.views.has(candidate.id)) this.views = new Map(this.views).set(candidate.id, candidate);
      const opposite = candidate.perps.get(market)?.size ?? 0n;
      if (opposite === 0n || (opposite > 0n) === (size > 0n)) continue;
      const taken = min(abs(opposite), remaining);
      this.commit({ kind: 'deleverage', market, counterparty: candidate.id, size: sign * taken, priceWad, rule: 'DELEVERAGE' }, market);
      remaining -= taken;
      if (remaining === 0n) return;
    }
    // Too few opposite positions outside the liquidator: it takes the rest at the same price.
    const step = { kind: 'perp', market, size: sign * remaining, priceWad, penalty: 0n, toInsurance: 0n, notionalUsd: this.notionalOf(market, remaining), rule: 'BANKRUPTCY_CLOSE' } as const;
    this.commit(step, market);
  }

  private repayAllDebtWithoutPenalty(): void {
    for (;;) {
      const account = this.account();
      const debt = this.debtAssets()[0];
      const collateral = this.seizableAssets()[0];
      if (debt === undefined || collateral === undefined) return;
      const swap = this.swapPricing(debt, collateral, 0n);
      const repaid = min(-balanceOf(account, debt), swap.maxRepaidFor(balanceOf(account, collateral)));
      if (repaid === 0n) {
        // Collateral worth less than one base unit of the debt: it goes to the insurance
        // fund rather than staying with a bankrupt account.
        this.commit(swap.seizeAll(balanceOf(account, collateral)), collateral);
        continue;
      }
      this.commit(swap.step(repaid, 'BANKRUPTCY_CLOSE'), collateral);
    }
  }

  /** Debts left with nothing to seize: the fund covers what it holds of the asset, lenders the rest. */
  coverBadDebt(): void {
    if (this.auctionStarted || this.account().perps.size > 0 || this.targetMet()) return;
    this.sweepCrumbs();
    const account = this.account();
    if (this.seizableAssets().length > 0) return;
    for (const asset of this.debtAssets()) {
      const amount = balanceOf(account, asset);
      const fund = balanceOf(viewOf(this.views, this.input.parties.insurance), asset);
      const covered = min(-amount, fund > 0n ? fund : 0n);
      if (covered > 0n) this.commit({ kind: 'insurance', asset, amount: covered, rule: 'INSURANCE_COVER' });
      const rest = -amount - covered;
      if (rest > 0n) this.commit({ kind: 'socialize', asset, amount: rest, rule: 'SOCIALIZE' });
    }
  }

  /**
   * Collateral too small to repay one base unit of any remaining debt (at its liquidation
   * penalty) goes to the insurance fund, so that a crumb left by rounding never keeps a debt
   * from being covered.
   */
  private sweepCrumbs(): void {
    const debts = this.debtAssets();
    if (debts.length === 0) return;
    for (const collateral of this.seizableAssets()) {
      const available = balanceOf(this.account(), collateral);
      // Judged at the penalty a swap of this collateral charges: what a swap could not take.
      const penaltyWad = this.config.assets.get(collateral)?.liquidationPenaltyWad ?? 0n;
      const repaysSomething = debts.some((debt) => this.swapPricing(debt, collateral, penaltyWad).maxRepaidFor(available) > 0n);
      if (!repaysSomething) this.commit(this.swapPricing(debts[0] ?? '', collateral, 0n).seizeAll(available), collateral);
    }
  }

  // ── Sizing ───────────────────────────────────────────────────────────────────────────

  /**
   * The largest amount a step may take and the limit that binds it: the whole position or
   * debt, the per-liquidation share, the cascade room and the keeper's limit. A remainder
   * below the dust value is never left behind by the share cap alone.
   */
  private bound(
    available: bigint,
    availableUsd: bigint,
    key: string,
    amountForUsd: (usd: bigint) => bigint,
    whole: { natural: bigint; naturalValueUsd: bigint } = { natural: available, naturalValueUsd: availableUsd },
  ): Bound {
    const liquidation = this.config.liquidation;
    let amount = available;
    let rule: StepRule = 'ALL_AVAILABLE';
    const shareCap = mulDivDown(whole.natural, liquidation.maxShareWad, WAD);
    if (shareCap < amount && whole.naturalValueUsd >= liquidation.dustUsd) {
      amount = shareCap;
      rule = 'MAX_SHARE_CAP';
    }
    const room = this.input.roomUsd.get(key);
    if (room !== undefined) {
      const roomLeft = room - (this.notionalByKey.get(key) ?? 0n);
      const byRoom = roomLeft > 0n ? amountForUsd(roomLeft) : 0n;
      if (byRoom < amount) {
        amount = byRoom;
        rule = 'CASCADE_CAP';
      }
    }
    if (this.input.keeperLimitUsd !== undefined) {
      const left = this.input.keeperLimitUsd - this.takenUsd;
      const byLimit = left > 0n ? amountForUsd(left) : 0n;
      if (byLimit < amount) {
        amount = byLimit;
        rule = 'KEEPER_LIMIT';
      }
    }
    return { amount, rule, available };
  }

  /** The smallest amount within the bound that meets the target, else the bound itself. */
  private sizeStep(
    bound: Bound,
    stepFor: (amount: bigint) => LiquidationStep,
    leavesDust: (amount: bigint) => boolean,
  ): { amount: bigint; rule: StepRule } {
    const healthAt = (amount: bigint): bigint => this.targetHealthAfter(stepFor(amount));
    const minimal = minimalAmount(bound.amount, healthAt);
    if (minimal === null) return { amount: bound.amount, rule: bound.rule };
    if (minimal < bound.available && leavesDust(minimal) && bound.rule === 'ALL_AVAILABLE') {
      return { amount: bound.available, rule: 'WHOLE_DUST' };
    }
    return { amount: minimal, rule: 'MINIMAL_TO_TARGET' };
  }

  private targetHealthAfter(step: LiquidationStep): bigint {
    const views = applyMovements(this.views, movementsOf(step, this.input.parties, this.config), this.config);
    const health = evaluateAccount(viewOf(views, this.input.parties.account), this.prices, this.config);
    if (!health.ok) throw new Error(`planLiquidation: account cannot be valued (${health.error.code})`);
    return targetHealth(health.value, this.config);
  }

  private targetMet(): boolean {
    const health = evaluateAccount(this.account(), this.prices, this.config);
    return health.ok && targetHealth(health.value, this.config) >= 0n;
  }

  private commit(step: LiquidationStep, key?: string): void {
    this.views = applyMovements(this.views, movementsOf(step, this.input.parties, this.config), this.config);
    this.steps.push(step);
    const usd = step.kind === 'perp' ? step.notionalUsd : step.kind === 'swap' ? step.valueUsd : 0n;
    this.takenUsd += usd;
    if (key !== undefined) this.notionalByKey.set(key, (this.notionalByKey.get(key) ?? 0n) + usd);
  }

  // ── Prices and pairs ─────────────────────────────────────────────────────────────────

  private perpPenalty(size: bigint, priceWad: bigint, feeWad: bigint, baseUnit: bigint): bigint {
    const quoteUnit = this.config.assets.get(this.config.quote)?.unit ?? WAD;
    return mulDivUp(size * priceWad, feeWad * quoteUnit, baseUnit * WAD * WAD);
  }

  private notionalOf(marketId: string, size: bigint): bigint {
    const market = this.config.markets.get(marketId);
    const base = market && this.config.assets.get(market.base);
    const price = market && this.prices.get(market.base);
    return base === undefined || price === undefined ? 0n : divUp(size * price.priceWad, base.unit);
  }

  /** Markets of the account's positions, largest maintenance requirement first. */
  private perpsByRequirement(): string[] {
    const health = explainAccount(this.account(), this.prices, this.config);
    if (!health.ok) return [];
    return health.value.breakdown
      .flatMap((part) => (part.kind === 'perp' ? [{ market: part.market, requirement: part.maintenance.liabilitiesUsd }] : []))
      .sort((a, b) => (a.requirement === b.requirement ? compareIds(a.market, b.market) : a.requirement > b.requirement ? -1 : 1))
      .map((entry) => entry.market);
  }

  /** Positive, priced balances, in id order: what a liquidator can take. */
  private seizableAssets(): string[] {
    return [...this.account().balances]
      .filter(([asset, amount]) => amount > 0n && (this.prices.get(asset)?.priceWad ?? 0n) > 0n)
      .map(([asset]) => asset)
      .sort(compareIds);
  }

  /** Negative balances, in id order. */
  private debtAssets(): string[] {
    return [...this.account().balances]
      .filter(([, amount]) => amount < 0n)
      .map(([asset]) => asset)
      .sort(compareIds);
  }

  /**
   * The debt/collateral pair that restores most target health per unit of penalty among
   * those that restore any. Health restored per USD repaid:
   *   liabilityWeight × price_high/price (debt)  −  (1 + penalty) × collateralWeight × price_low/price.
   */
  private bestPair(exhausted: ReadonlySet<string>): { debt: string; collateral: string } | null {
    let best: { debt: string; collateral: string; gainWad: bigint; penaltyWad: bigint } | null = null;
    const collaterals = this.seizableAssets();
    for (const debt of this.debtAssets()) {
      for (const collateral of collaterals) {
        if (exhausted.has(`${debt}/${collateral}`)) continue;
        const penaltyWad = this.config.assets.get(collateral)?.liquidationPenaltyWad ?? 0n;
        const gainWad = this.pairGain(debt, collateral, penaltyWad);
        if (gainWad <= 0n) continue;
        // Compare gain/penalty by cross-multiplication; a zero penalty ranks first.
        if (best === null || gainWad * best.penaltyWad > best.gainWad * penaltyWad) best = { debt, collateral, gainWad, penaltyWad };
      }
    }
    return best === null ? null : { debt: best.debt, collateral: best.collateral };
  }

  private pairGain(debt: string, collateral: string, penaltyWad: bigint): bigint {
    const target = this.config.liquidation.target;
    const level = target.kind === 'initial' ? 'initialWad' : 'maintenanceWad';
    const ratioWad = target.kind === 'initial' ? WAD : target.ratioWad;
    const debtPrice = this.prices.get(debt);
    const collateralPrice = this.prices.get(collateral);
    if (debtPrice === undefined || collateralPrice === undefined) return 0n;
    const liabilityWeight = this.config.assets.get(debt)?.liability?.[level] ?? WAD;
    const collateralWeight = this.config.assets.get(collateral)?.collateral?.[level] ?? 0n;
    const debtFactor = mulDivDown(ratioWad * liabilityWeight, priceHigh(debtPrice), WAD * debtPrice.priceWad);
    const collateralFactor = mulDivUp((WAD + penaltyWad) * collateralWeight, priceLow(collateralPrice), WAD * collateralPrice.priceWad);
    return debtFactor - collateralFactor;
  }

  private swapPricing(debt: string, collateral: string, penaltyWad: bigint): SwapPricing {
    const debtUnit = this.config.assets.get(debt)?.unit ?? 1n;
    const collateralUnit = this.config.assets.get(collateral)?.unit ?? 1n;
    const debtPriceWad = this.prices.get(debt)?.priceWad ?? 0n;
    const collateralPriceWad = this.prices.get(collateral)?.priceWad ?? 1n;
    const insuranceShareWad = this.config.liquidation.insuranceShareWad;
    const valueOf = (repaid: bigint): bigint => divDown(repaid * debtPriceWad, debtUnit);
    // What the liquidator receives rounds down: collateral worth at most repaid × (1 + penalty).
    const seizedFor = (valueUsd: bigint): bigint => mulDivDown(valueUsd * (WAD + penaltyWad), collateralUnit, WAD * collateralPriceWad);
    const fairFor = (valueUsd: bigint): bigint => mulDivDown(valueUsd, collateralUnit, collateralPriceWad);
    const step = (repaid: bigint, rule: StepRule): LiquidationStep => {
      const valueUsd = valueOf(repaid);
      const seized = seizedFor(valueUsd);
      const bonus = seized - fairFor(valueUsd);
      return {
        kind: 'swap',
        debtAsset: debt,
        repaid,
        collateralAsset: collateral,
        seized,
        penaltyWad,
        toInsurance: mulDivDown(bonus > 0n ? bonus : 0n, insuranceShareWad, WAD),
        valueUsd,
        rule,
      };
    };
    // The largest repayment whose seized collateral fits in `available`, inverting the two
    // floors of seizedFor(valueOf(x)) exactly: value v fits while ⌊v(1+p)·u_C / p_C⌋ ≤ available,
    // and a repayment x gives ⌊x·p_D / u_D⌋ = v.
    const maxRepaidFor = (available: bigint): bigint => {
      if (debtPriceWad === 0n) return 0n;
      const valueMax = divDown((available + 1n) * WAD * collateralPriceWad - 1n, (WAD + penaltyWad) * collateralUnit);
      return divDown((valueMax + 1n) * debtUnit - 1n, debtPriceWad);
    };
    const repaidForValue = (usd: bigint): bigint => (debtPriceWad === 0n ? 0n : mulDivDown(usd, debtUnit, debtPriceWad));
    const seizeAll = (available: bigint): LiquidationStep => ({
      kind: 'swap',
      debtAsset: debt,
      repaid: 0n,
      collateralAsset: collateral,
      seized: available,
      penaltyWad: 0n,
      toInsurance: available,
      valueUsd: 0n,
      rule: 'BANKRUPTCY_CLOSE',
    });
    return { valueOf, step, maxRepaidFor, repaidForValue, seizeAll };
  }
}

interface Bound {
  readonly amount: bigint;
  readonly rule: StepRule;
  /** Everything there was to take before the caps. */
  readonly available: bigint;
}

interface SwapPricing {
  readonly valueOf: (repaid: bigint) => bigint;
  readonly step: (repaid: bigint, rule: StepRule) => LiquidationStep;
  readonly maxRepaidFor: (collateral: bigint) => bigint;
  readonly repaidForValue: (usd: bigint) => bigint;
  readonly seizeAll: (collateral: bigint) => LiquidationStep;
}

/**
 * The smallest amount in [1, max] whose target health is ≥ 0, or null when even `max` falls
 * short. Starts from the secant through 0 and max (exact when health is linear in the amount)
 * and keeps the bracket "below target at lo, at target at hi" while narrowing it.
 */
export function minimalAmount(max: bigint, healthAt: (amount: bigint) => bigint): bigint | null {
  if (max <= 0n) return null;
  const healthAtMax = healthAt(max);
  if (healthAtMax < 0n) return null;
  const healthAtZero = healthAt(0n);
  if (healthAtZero >= 0n) return null;
  let lo = 0n;
  let hi = max;
  const estimate = divUp(-healthAtZero * max, healthAtMax - healthAtZero);
  const guess = estimate < 1n ? 1n : estimate > max ? max : estimate;
  if (guess < max) {
    if (healthAt(guess) >= 0n) hi = guess;
    else lo = guess;
  }
  if (hi === guess && hi - 1n > lo && healthAt(hi - 1n) < 0n) return hi;
  while (hi - lo > 1n) {
    const middle = (lo + hi) >> 1n;
    if (healthAt(middle) >= 0n) hi = middle;
    else lo = middle;
  }
  return hi;
}

function viewOf(views: Views, id: string): Account {
  const view = views.get(id);
  if (view === undefined) throw new Error(`planLiquidation: no view of ${id}`);
  return view;
}

