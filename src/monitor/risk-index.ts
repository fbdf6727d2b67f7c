/**
 * The risk index: every user account as a few rows of typed arrays, kept current from the
 * ledger, with a float64 screen whose bounds provably contain the core's exact answer.
 *
 * Layout. An account is a slot; its entries (one per balance, one per perp position) sit in
 * a contiguous region of the entry columns:
 *   key   Uint16   asset index, or market index | PERP; FUNDING_ONLY marks a quote entry that
 *                  only carries pending funding (no stored balance)
 *   float Float64 ×2  [quantity, extra] — balance: whole units ÷ the interest index they were
 *                  valued at (so interest accrual needs no reload), and pending funding in
 *                  whole quote units (quote entry only); perp: size in whole base units, and
 *                  entry price
 *   exact BigUint64 ×6  the stored record itself, exactly (amount, index; or size, entry,
 *                  funding index), 128-bit each: what the sweep workers value (wide.ts)
 * Per asset and per market there are exposure lists (the slots holding it, directly or
 * through a perp on it), so a move of one price touches only the accounts exposed to it.
 *
 * The screen. For one slot it computes maintenance assets A and liabilities L in USD floats
 * from per-asset factors (price − confidence times collateral weight, price + confidence
 * times liability weight, mark price, interest indexes) and an absolute error bound for each,
 * such that the core's exact values satisfy |A_exact − A| ≤ E_A and |L_exact − L| ≤ E_L:
 *  - float rounding: a term is at most ~17 correctly rounded operations and conversions
 *    (bigint → number is correctly rounded; 1e18 is exact), each off by ≤ 2^-53 relative;
 *    A and L are sums of non-negative terms (no cancellation), and a threshold test adds ~4
 *    more, so for an account of n ≤ 4096 entries (more is refused) the relative error is
 *    below (n + 21) × 2^-53 < 4.6e-13. The screen charges EPS = 1e-12 on every term, on both
 *    sums and on every threshold product. The one difference, mark − entry of a perp, is
 *    charged EPS × |size| × (mark + |entry|) absolutely.
 *  - the core's rounding: each side's total is rounded once, by less than 1 wei (the screen
 *    charges 2e-18 USD per term, which covers it with room); a size-scaled margin fraction rounds √ and × up, at most factor × (1e9 + 1) / 1e18
 *    + 1e-18 above the real fraction (charged notional × (factor × 2e-9 + 2e-18));
 *  - interest since the account was indexed: currentAmount rounds by one base unit, so the
 *    indexed quantity × index is within (1 + index / lowest index) base units of the exact
 *    amount (charged (2 + index / lowest index) base units at the side's price and weight);
 *  - a balance or PnL whose sign the bound cannot tell is counted as [0, |x| + error] on
 *    both sides.
 * Then, for each threshold t of thresholds.ts, "ratio < t" is certain when
 * A + E_A < t × (L − E_L) × (1 − EPS), certainly false when L has no term at all or
 * A − E_A ≥ t × (L + E_L) × (1 + EPS), and uncertain otherwise (so is everything when a
 * price is missing: NaN compares false both ways). Only certain answers let the monitor skip
 * the exact evaluation; test/monitor.property.test.ts checks this against `evaluateAccount`
 * over random portfolios and moves down to prices of one wei.
 */
import type { RiskConfig } from '../core/config.ts';
import { assetStateOf, currentAmount, pendingFunding, type AccountRecord, type LedgerState } from '../core/ledger/state.ts';
import { markPrice, priceHigh, priceLow, type Price } from '../core/prices.ts';
import { MASK_UNKNOWN, THRESHOLD_COUNT, type ThresholdsWad } from './thresholds.ts';
import { fitsWide, readWide, writeWide } from './wide.ts';

export const PERP = 0x8000;
export const FUNDING_ONLY = 0x4000;
export const KEY_MASK = 0x3fff;
export const WORDS_PER_ENTRY = 6;
/** Row 0 of the asset table: an asset the configuration does not know (every factor NaN). */
export const NO_ASSET = 0;

/** Factor table of an asset row (stride ASSET_STRIDE): USD per whole unit held or owed, etc. */
const ASSET_STRIDE = 8;
const COLLATERAL_VALUE = 0; // price − confidence, times the maintenance collateral weight
const LIABILITY_VALUE = 1; // price + confidence, times the maintenance liability weight
const MARK = 2;
const SUPPLY_INDEX = 3;
const BORROW_INDEX = 4;
const SLACK_UNITS = 5; // interest rounding allowance, whole units
const UNIT = 6; // base units per whole unit
/** Factor table of a market row (stride MARKET_STRIDE). */
const MARKET_STRIDE = 4;
const MARGIN_BASE = 0;
const MARGIN_SCALING = 1;
const PNL_WEIGHT = 2;

const EPS = 1e-12;
/** Two wei in USD, charged per term: the core rounds each side's total once, by less than one wei. */
const WEI2 = 2e-18;
/** A size-scaled fraction rounds up by at most factor × (1e9 + 1) / 1e18 + 1e-18. */
const ROOT_SLACK = 2e-9;
const WAD_F = 1e18;
/** `screen` result: below-threshold bits in 0..3, uncertain bits in 4..7. */
export const UNCERTAIN_SHIFT = 4;
export const ALL_UNCERTAIN = ((1 << THRESHOLD_COUNT) - 1) << UNCERTAIN_SHIFT;
/** Entries per account: the float error bound above assumes at most this many. */
const ENTRIES_MAX = 4096;
/** Stamps live in Uint32 columns: start again well before they would wrap. */
const STAMP_MAX = 0xffff_fff0;
const INITIAL_SLOTS = 1024;
const INITIAL_ENTRIES = 4096;
const INITIAL_LIST = 16;

/** The columns sweep workers read: shared memory, never copied. */
export interface SharedColumns {
  readonly start: Uint32Array;
  readonly count: Uint16Array;
  /** 1: a value needs more than 128 bits; the slot is valued on the main thread. */
  readonly wide: Uint8Array;
  readonly key: Uint16Array;
  readonly exact: BigUint64Array;
}

/** What changed in the ledger state since the last `sync`. */
export interface TableChanges {
  readonly config: boolean;
  /** Asset rows whose price or interest index moved. */
  readonly assets: readonly number[];
  /** Market rows whose funding index moved (their holders' pending funding changed). */
  readonly markets: readonly number[];
}

/** A growable list of slots (lazy deletion: `stale` members are removed by compaction). */
export class ExposureList {
  slots = new Int32Array(INITIAL_LIST);
  length = 0;
  stale = 0;

  push(slot: number): void {
    if (this.length === this.slots.length) this.slots = grown(this.slots, this.length * 2);
    this.slots[this.length++] = slot;
  }
}

export class RiskIndex {
  private config: RiskConfig;
  // ── Slots
  private readonly ids: string[] = [];
  private readonly slotById = new Map<string, number>();
  private start = sharedUint32(INITIAL_SLOTS);
  private count = sharedUint16(INITIAL_SLOTS);
  private wide = sharedUint8(INITIAL_SLOTS);
  private capacity = new Uint16Array(INITIAL_SLOTS);
  // ── Entries
  private key = sharedUint16(INITIAL_ENTRIES);
  private floats = new Float64Array(INITIAL_ENTRIES * 2);
  private exact = sharedBigUint64(INITIAL_ENTRIES * WORDS_PER_ENTRY);
  private top = 0;
  private wasted = 0;
  // ── Assets (row 0: NO_ASSET)
  private readonly assetIds: string[] = [''];
  private readonly assetRow = new Map<string, number>();
  private readonly cachedPrice: (Price | undefined)[] = [undefined];
  private readonly cachedSupplyIndex: bigint[] = [0n];
  private readonly cachedBorrowIndex: bigint[] = [0n];
  private assetFactors = new Float64Array(INITIAL_LIST * ASSET_STRIDE).fill(Number.NaN);
  private supplyIndexLowest = new Float64Array(INITIAL_LIST).fill(Number.POSITIVE_INFINITY);
  private borrowIndexLowest = new Float64Array(INITIAL_LIST).fill(Number.POSITIVE_INFINITY);
  private assetLists: ExposureList[] = [new ExposureList()];
  // ── Markets
  private readonly marketIds: string[] = [];
  private readonly marketRow = new Map<string, number>();
  private readonly cachedFundingIndex: bigint[] = [];
  private marketBase = new Int32Array(INITIAL_LIST);
  private marketFactors = new Float64Array(INITIAL_LIST * MARKET_STRIDE).fill(Number.NaN);
  private marketLists: ExposureList[] = [];
  // ── Thresholds and scratch
  private readonly thresholds = new Float64Array(THRESHOLD_COUNT).fill(Number.NaN);
  private assetStamp = new Uint32Array(INITIAL_LIST);
  private marketStamp = new Uint32Array(INITIAL_LIST);
  private stamp = 0;
  private readonly oldKeys: number[] = [];

  constructor(private readonly state: LedgerState) {
    this.config = state.config;
    this.readConfig();
  }

  get slotCount(): number {
    return this.ids.length;
  }

  idOf(slot: number): string {
    const id = this.ids[slot];
    if (id === undefined) throw new RangeError(`monitor: no slot ${slot}`);
    return id;
  }

  slotOf(id: string): number | undefined {
    return this.slotById.get(id);
  }

  setThresholds(thresholdsWad: ThresholdsWad): void {
    thresholdsWad.forEach((value, bit) => {
      this.thresholds[bit] = Number(value) / WAD_F;
    });
  }

  /**
   * Brings the factor tables to the ledger's state: a new configuration rebuilds them (the
   * caller then reloads every slot); a moved price or interest index refreshes that asset; a
   * moved funding index is reported so that the market's holders are reloaded.
   */
  sync(): TableChanges {
    if (this.state.config !== this.config) {
      this.config = this.state.config;
      this.readConfig();
      return { config: true, assets: [], markets: [] };
    }
    const assets: number[] = [];
    for (let row = 1; row < this.assetIds.length; row++) {
      const id = this.assetIds[row]!;
      const assetState = assetStateOf(this.state, id);
      if (
        this.state.prices.get(id) !== this.cachedPrice[row] ||
        assetState.supplyIndexWad !== this.cachedSupplyIndex[row] ||
        assetState.borrowIndexWad !== this.cachedBorrowIndex[row]
      ) {
        this.refreshAsset(row);
        assets.push(row);
      }
    }
    const markets: number[] = [];
    for (let row = 0; row < this.marketIds.length; row++) {
      const fundingIndexWad = this.state.markets.get(this.marketIds[row]!)?.fundingIndexWad ?? 0n;
      if (fundingIndexWad !== this.cachedFundingIndex[row]) {
        this.cachedFundingIndex[row] = fundingIndexWad;
        markets.push(row);
      }
    }
    return { config: false, assets, markets };
  }

  assetExposure(row: number): ExposureList {
    return this.assetLists[row]!;
  }

  marketExposure(row: number): ExposureList {
    return this.marketLists[row]!;
  }

  get assetRowCount(): number {
    return this.assetIds.length;
  }

  /**
   * Indexes an account from its ledger record: the one path by which any account (service,
   * simulation or benchmark) enters the index. The tables must be in sync with the state.
   */
  load(id: string, record: AccountRecord): number {
    const slot = this.slotById.get(id) ?? this.addSlot(id);
    this.rememberOldKeys(slot);
    const quote = this.config.quote;
    let funding = 0n;
    for (const position of record.perps.values()) funding += pendingFunding(this.state, position);
    const fundingOnly = funding !== 0n && !record.balances.has(quote);
    const entries = record.balances.size + record.perps.size + (fundingOnly ? 1 : 0);
    if (entries > ENTRIES_MAX) throw new RangeError(`monitor: account ${id} has ${entries} entries, at most ${ENTRIES_MAX}`);
    let entry = this.region(slot, entries);
    let fits = true;
    for (const [asset, balance] of record.balances) {
      const row = this.assetRowOf(asset);
      const amount = currentAmount(balance, assetStateOf(this.state, asset));
      const at = row * ASSET_STRIDE;
      const index = this.assetFactors[at + (amount >= 0n ? SUPPLY_INDEX : BORROW_INDEX)]!;
      const unit = this.assetFactors[at + UNIT]!;
      this.key[entry] = row;
      this.floats[2 * entry] = Number(amount) / unit / index;
      this.floats[2 * entry + 1] = asset === quote ? Number(funding) / unit : 0;
      fits = this.writeExact(entry, balance.amount, balance.indexWad, 0n) && fits;
      entry += 1;
    }
    if (fundingOnly) {
      const row = this.assetRowOf(quote);
      this.key[entry] = row | FUNDING_ONLY;
      this.floats[2 * entry] = 0;
      this.floats[2 * entry + 1] = Number(funding) / this.assetFactors[row * ASSET_STRIDE + UNIT]!;
      this.writeExact(entry, 0n, 0n, 0n);
      entry += 1;
    }
    for (const position of record.perps.values()) {
      const row = this.marketRowOf(position.market);
      this.key[entry] = row | PERP;
      this.floats[2 * entry] = Number(position.size) / this.assetFactors[this.marketBase[row]! * ASSET_STRIDE + UNIT]!;
      this.floats[2 * entry + 1] = Number(position.entryPriceWad) / WAD_F;
      fits = this.writeExact(entry, position.size, position.entryPriceWad, position.fundingIndexWad) && fits;
      entry += 1;
    }
    this.wide[slot] = fits ? 0 : 1;
    this.updateExposure(slot);
    if (this.wasted > INITIAL_ENTRIES && this.wasted * 2 > this.top) this.compactEntries();
    return slot;
  }

  /**
   * Screens one slot at the current factors: bits 0..3 the thresholds it is certainly
   * below, bits 4..7 those it cannot decide (see the header for the bound).
   */
  screen(slot: number): number {
    const key = this.key;
    const floats = this.floats;
    const assetFactors = this.assetFactors;
    const marketFactors = this.marketFactors;
    const marketBase = this.marketBase;
    let assets = 0;
    let assetsError = 0;
    let liabilities = 0;
    let liabilitiesError = 0;
    const first = this.start[slot]!;
    const end = first + this.count[slot]!;
    for (let entry = first; entry < end; entry++) {
      const code = key[entry]!;
      const quantity = floats[2 * entry]!;
      const extra = floats[2 * entry + 1]!;
      if ((code & PERP) === 0) {
        const at = (code & KEY_MASK) * ASSET_STRIDE;
        const held = quantity * assetFactors[at + (quantity >= 0 ? SUPPLY_INDEX : BORROW_INDEX)]!;
        const amount = held + extra;
        const error = assetFactors[at + SLACK_UNITS]! + EPS * (Math.abs(held) + Math.abs(extra));
        if (amount > error) {
          const value = assetFactors[at + COLLATERAL_VALUE]!;
          assets += amount * value;
          assetsError += error * value + WEI2;
        } else if (amount < -error) {
          const value = assetFactors[at + LIABILITY_VALUE]!;
          liabilities -= amount * value;
          liabilitiesError += error * value + WEI2;
        } else {
          // Sign unknown: a holding in [0, amount + error] and a debt in [0, error − amount].
          const heldHalf = (amount + error) * assetFactors[at + COLLATERAL_VALUE]! * 0.5;
          const owedHalf = (error - amount) * assetFactors[at + LIABILITY_VALUE]! * 0.5;
          assets += heldHalf;
          assetsError += heldHalf + WEI2;
          liabilities += owedHalf;
          liabilitiesError += owedHalf + WEI2;
        }
      } else {
        const row = code & KEY_MASK;
        const at = row * MARKET_STRIDE;
        const markPrice = assetFactors[marketBase[row]! * ASSET_STRIDE + MARK]!;
        const absSize = Math.abs(quantity);
        const pnl = quantity * (markPrice - extra);
        const pnlError = EPS * absSize * (markPrice + Math.abs(extra)) + WEI2;
        const weight = marketFactors[at + PNL_WEIGHT]!;
        if (pnl > pnlError) {
          assets += pnl * weight;
          assetsError += pnlError * weight + WEI2;
        } else if (pnl < -pnlError) {
          liabilities -= pnl;
          liabilitiesError += pnlError + WEI2;
        } else {
          const gainHalf = (pnl + pnlError) * weight * 0.5;
          const lossHalf = (pnlError - pnl) * 0.5;
          assets += gainHalf;
          assetsError += gainHalf + WEI2;
          liabilities += lossHalf;
          liabilitiesError += lossHalf + WEI2;
        }
        const notional = absSize * markPrice;
        const scaling = marketFactors[at + MARGIN_SCALING]!;
        let fraction = marketFactors[at + MARGIN_BASE]!;
        if (scaling > 0) {
          const scaled = scaling * Math.sqrt(notional);
          if (scaled > fraction) fraction = scaled;
        }
        const requirement = notional * fraction;
        liabilities += requirement;
        liabilitiesError += EPS * requirement + notional * (scaling * ROOT_SLACK + WEI2) + WEI2;
      }
    }
    if (liabilitiesError === 0) return assets >= 0 ? 0 : ALL_UNCERTAIN; // no liabilities: an unbounded ratio
    assetsError += EPS * assets;
    liabilitiesError += EPS * liabilities;
    const assetsLow = assets - assetsError;
    const assetsHigh = assets + assetsError;
    const liabilitiesLow = liabilities - liabilitiesError;
    const liabilitiesHigh = liabilities + liabilitiesError;
    if (!(assetsHigh >= 0 && liabilitiesHigh >= 0)) return ALL_UNCERTAIN;
    const thresholds = this.thresholds;
    let below = 0;
    let uncertain = 0;
    for (let bit = 0; bit < THRESHOLD_COUNT; bit++) {
      const threshold = thresholds[bit]!;
      if (assetsLow >= threshold * liabilitiesHigh * (1 + EPS)) continue;
      if (assetsHigh < threshold * liabilitiesLow * (1 - EPS)) below |= 1 << bit;
      else uncertain |= 1 << bit;
    }
    return below | (uncertain << UNCERTAIN_SHIFT);
  }

  sharedColumns(): SharedColumns {
    return { start: this.start, count: this.count, wide: this.wide, key: this.key, exact: this.exact };
  }

  get assetIdsByRow(): readonly string[] {
    return this.assetIds;
  }

  get marketIdsByRow(): readonly string[] {
    return this.marketIds;
  }

  /**
   * Makes room for `slots` accounts of `entries` entries in all, exactly: a bulk load sized
   * up front leaves no growth slack (the columns grow by half again after that).
   */
  reserve(slots: number, entries: number): void {
    if (slots > this.start.length) {
      this.start = sharedCopy(this.start, sharedUint32(slots));
      this.count = sharedCopy(this.count, sharedUint16(slots));
      this.wide = sharedCopy(this.wide, sharedUint8(slots));
      this.capacity = grown(this.capacity, slots);
    }
    this.ensureEntries(entries, 1);
  }

  /** Shrinks the exposure lists to their members (after a bulk load). */
  trimLists(): void {
    for (const list of [...this.assetLists, ...this.marketLists]) list.slots = list.slots.slice(0, Math.max(list.length, INITIAL_LIST));
  }

  /** Bytes held by the index's columns and lists (ids and their map not included). */
  columnBytes(): number {
    const arrays = [
      this.start, this.count, this.wide, this.capacity, this.key, this.floats, this.exact,
    ];
    let bytes = arrays.reduce((sum, array) => sum + array.byteLength, 0);
    for (const list of [...this.assetLists, ...this.marketLists]) bytes += list.slots.byteLength;
    return bytes;
  }

  // ── Tables ─────────────────────────────────────────────────────────────────────────────

  private readConfig(): void {
    for (const id of this.config.assets.keys()) this.assetRowOf(id);
    for (const id of this.config.markets.keys()) this.marketRowOf(id);
    for (let row = 1; row < this.assetIds.length; row++) this.refreshAsset(row);
    for (let row = 0; row < this.marketIds.length; row++) this.refreshMarket(row);
  }

  private assetRowOf(id: string): number {
    const known = this.assetRow.get(id);
    if (known !== undefined) return known;
    const row = this.assetIds.length;
    if (row > KEY_MASK) throw new RangeError(`monitor: more than ${KEY_MASK} assets`);
    this.assetIds.push(id);
    this.assetRow.set(id, row);
    this.cachedPrice.push(undefined);
    this.cachedSupplyIndex.push(0n);
    this.cachedBorrowIndex.push(0n);
    this.assetLists.push(new ExposureList());
    if (row >= this.supplyIndexLowest.length) this.growAssetTables(row * 2);
    this.refreshAsset(row);
    return row;
  }

  private growAssetTables(length: number): void {
    this.assetFactors = grown(this.assetFactors, length * ASSET_STRIDE, Number.NaN);
    this.supplyIndexLowest = grown(this.supplyIndexLowest, length, Number.POSITIVE_INFINITY);
    this.borrowIndexLowest = grown(this.borrowIndexLowest, length, Number.POSITIVE_INFINITY);
    this.assetStamp = grown(this.assetStamp, length);
  }

  /** Per-asset factors from the configuration, the price and the interest indexes. */
  private refreshAsset(row: number): void {
    const id = this.assetIds[row]!;
    const config = this.config.assets.get(id);
    const price = this.state.prices.get(id);
    const assetState = assetStateOf(this.state, id);
    this.cachedPrice[row] = price;
    this.cachedSupplyIndex[row] = assetState.supplyIndexWad;
    this.cachedBorrowIndex[row] = assetState.borrowIndexWad;
    const supply = Number(assetState.supplyIndexWad) / WAD_F;
    const borrow = Number(assetState.borrowIndexWad) / WAD_F;
    this.supplyIndexLowest[row] = Math.min(this.supplyIndexLowest[row]!, supply);
    this.borrowIndexLowest[row] = Math.min(this.borrowIndexLowest[row]!, borrow);
    const factors = this.assetFactors.subarray(row * ASSET_STRIDE, (row + 1) * ASSET_STRIDE);
    factors.fill(Number.NaN);
    factors[SUPPLY_INDEX] = supply;
    factors[BORROW_INDEX] = borrow;
    if (config === undefined) return;
    const unit = Number(config.unit);
    factors[UNIT] = unit;
    if (price === undefined) return;
    const collateralWeight = config.collateral === undefined ? 0 : Number(config.collateral.maintenanceWad) / WAD_F;
    // A debt in an asset that cannot be borrowed counts at weight 1 (health.ts).
    const liabilityWeight = config.liability === undefined ? 1 : Number(config.liability.maintenanceWad) / WAD_F;
    factors[COLLATERAL_VALUE] = (Number(priceLow(price, 'maintenance')) / WAD_F) * collateralWeight;
    factors[LIABILITY_VALUE] = (Number(priceHigh(price, 'maintenance')) / WAD_F) * liabilityWeight;
    factors[MARK] = Number(markPrice(price)) / WAD_F;
    const growth = Math.max(supply / this.supplyIndexLowest[row]!, borrow / this.borrowIndexLowest[row]!);
    factors[SLACK_UNITS] = (2 + growth) / unit;
  }

  private marketRowOf(id: string): number {
    const known = this.marketRow.get(id);
    if (known !== undefined) return known;
    const row = this.marketIds.length;
    if (row > KEY_MASK) throw new RangeError(`monitor: more than ${KEY_MASK} markets`);
    this.marketIds.push(id);
    this.marketRow.set(id, row);
    this.cachedFundingIndex.push(this.state.markets.get(id)?.fundingIndexWad ?? 0n);
    this.marketLists.push(new ExposureList());
    if (row >= this.marketBase.length) {
      const length = row * 2;
      this.marketBase = grown(this.marketBase, length);
      this.marketFactors = grown(this.marketFactors, length * MARKET_STRIDE, Number.NaN);
      this.marketStamp = grown(this.marketStamp, length);
    }
    this.refreshMarket(row);
    return row;
  }

  private refreshMarket(row: number): void {
    const market = this.config.markets.get(this.marketIds[row]!);
    const factors = this.marketFactors.subarray(row * MARKET_STRIDE, (row + 1) * MARKET_STRIDE);
    factors.fill(Number.NaN);
    if (market === undefined) {
      this.marketBase[row] = NO_ASSET;
      return;
    }
    this.marketBase[row] = this.assetRowOf(market.base);
    factors[MARGIN_BASE] = Number(market.marginFraction.maintenanceWad) / WAD_F;
    factors[MARGIN_SCALING] = Number(market.sizeScalingFactorWad) / WAD_F;
    factors[PNL_WEIGHT] = Number(market.positivePnlWeight.maintenanceWad) / WAD_F;
  }

  // ── Slots and entries ──────────────────────────────────────────────────────────────────

  private addSlot(id: string): number {
    const slot = this.ids.length;
    if (slot === this.start.length) {
      const length = Math.ceil(slot * 1.5);
      this.start = sharedCopy(this.start, sharedUint32(length));
      this.count = sharedCopy(this.count, sharedUint16(length));
      this.wide = sharedCopy(this.wide, sharedUint8(length));
      this.capacity = grown(this.capacity, length);
    }
    this.ids.push(id);
    this.slotById.set(id, slot);
    this.start[slot] = 0;
    this.count[slot] = 0;
    this.capacity[slot] = 0;
    return slot;
  }

  /** First entry of a region of `entries` for the slot: in place if it fits, else at the top. */
  private region(slot: number, entries: number): number {
    this.count[slot] = entries;
    if (entries <= this.capacity[slot]!) return this.start[slot]!;
    this.wasted += this.capacity[slot]!;
    this.ensureEntries(this.top + entries);
    this.start[slot] = this.top;
    this.capacity[slot] = entries;
    this.top += entries;
    return this.start[slot]!;
  }

  private ensureEntries(needed: number, growth = 1.5): void {
    if (needed <= this.key.length) return;
    const length = Math.max(needed, Math.ceil(this.key.length * growth));
    this.key = sharedCopy(this.key, sharedUint16(length));
    this.floats = grown(this.floats, length * 2);
    this.exact = sharedCopy(this.exact, sharedBigUint64(length * WORDS_PER_ENTRY));
  }

  /** Rewrites every region contiguously, in slot order, into fresh columns. */
  private compactEntries(): void {
    let total = 0;
    for (let slot = 0; slot < this.ids.length; slot++) total += this.count[slot]!;
    const length = Math.max(INITIAL_ENTRIES, Math.ceil(total * 1.25));
    const key = sharedUint16(length);
    const floats = new Float64Array(length * 2);
    const exact = sharedBigUint64(length * WORDS_PER_ENTRY);
    let top = 0;
    for (let slot = 0; slot < this.ids.length; slot++) {
      const from = this.start[slot]!;
      const entries = this.count[slot]!;
      key.set(this.key.subarray(from, from + entries), top);
      floats.set(this.floats.subarray(2 * from, 2 * (from + entries)), 2 * top);
      exact.set(this.exact.subarray(from * WORDS_PER_ENTRY, (from + entries) * WORDS_PER_ENTRY), top * WORDS_PER_ENTRY);
      this.start[slot] = top;
      this.capacity[slot] = entries;
      top += entries;
    }
    this.key = key;
    this.floats = floats;
    this.exact = exact;
    this.top = top;
    this.wasted = 0;
  }

  private writeExact(entry: number, first: bigint, second: bigint, third: bigint): boolean {
    if (!fitsWide(first) || !fitsWide(second) || !fitsWide(third)) return false;
    const at = entry * WORDS_PER_ENTRY;
    writeWide(this.exact, at, first);
    writeWide(this.exact, at + 2, second);
    writeWide(this.exact, at + 4, third);
    return true;
  }

  // ── Exposure lists ─────────────────────────────────────────────────────────────────────

  /** Keys (asset rows, then ~market rows) of the slot's entries before it is rewritten. */
  private rememberOldKeys(slot: number): void {
    this.oldKeys.length = 0;
    const first = this.start[slot]!;
    const end = first + this.count[slot]!;
    for (let entry = first; entry < end; entry++) this.oldKeys.push(this.key[entry]!);
  }

  /**
   * Appends the slot to the lists of what it is newly exposed to and counts it stale in the
   * lists of what it no longer is (a stale member costs one needless screen until the list
   * is compacted).
   */
  private updateExposure(slot: number): void {
    if (this.stamp > STAMP_MAX) {
      this.assetStamp.fill(0);
      this.marketStamp.fill(0);
      this.stamp = 0;
    }
    const before = ++this.stamp;
    for (const code of this.oldKeys) this.stampKey(code, before);
    const after = ++this.stamp;
    const first = this.start[slot]!;
    const end = first + this.count[slot]!;
    for (let entry = first; entry < end; entry++) {
      const code = this.key[entry]!;
      if ((code & PERP) === 0) {
        this.expose(this.assetStamp, this.assetLists, code & KEY_MASK, slot, before, after);
      } else {
        const market = code & KEY_MASK;
        this.expose(this.marketStamp, this.marketLists, market, slot, before, after);
        this.expose(this.assetStamp, this.assetLists, this.marketBase[market]!, slot, before, after);
      }
    }
    for (const code of this.oldKeys) {
      if ((code & PERP) === 0) this.unexpose(this.assetStamp, this.assetLists, code & KEY_MASK, before);
      else {
        const market = code & KEY_MASK;
        this.unexpose(this.marketStamp, this.marketLists, market, before);
        this.unexpose(this.assetStamp, this.assetLists, this.marketBase[market]!, before);
      }
    }
  }

  private stampKey(code: number, stamp: number): void {
    if ((code & PERP) === 0) this.assetStamp[code & KEY_MASK] = stamp;
    else {
      this.marketStamp[code & KEY_MASK] = stamp;
      this.assetStamp[this.marketBase[code & KEY_MASK]!] = stamp;
    }
  }

  private expose(stamps: Uint32Array, lists: ExposureList[], row: number, slot: number, before: number, after: number): void {
    const stamp = stamps[row]!;
    if (stamp === after) return;
    if (stamp !== before) lists[row]!.push(slot);
    stamps[row] = after;
  }

  private unexpose(stamps: Uint32Array, lists: ExposureList[], row: number, before: number): void {
    if (stamps[row] !== before) return;
    stamps[row] = 0;
    const list = lists[row]!;
    list.stale += 1;
    if (list.stale > INITIAL_LIST && list.stale * 2 > list.length) this.compactList(list, lists === this.marketLists, row);
  }

  /** Rebuilds one list from the slots' entries (members once each, in slot order). */
  private compactList(list: ExposureList, market: boolean, row: number): void {
    list.length = 0;
    list.stale = 0;
    for (let slot = 0; slot < this.ids.length; slot++) {
      const first = this.start[slot]!;
      const end = first + this.count[slot]!;
      for (let entry = first; entry < end; entry++) {
        const code = this.key[entry]!;
        const perp = (code & PERP) !== 0;
        const member = market
          ? perp && (code & KEY_MASK) === row
          : perp
            ? this.marketBase[code & KEY_MASK] === row
            : (code & KEY_MASK) === row;
        if (member) {
          list.push(slot);
          break;
        }
      }
    }
  }
}

/** The stored record of a slot from shared columns (sweep workers and tests), or null when wide. */
export function decodeRecord(
  columns: SharedColumns,
  slot: number,
  id: string,
  assetIds: readonly string[],
  marketIds: readonly string[],
): AccountRecord | null {
  if (columns.wide[slot] === 1) return null;
  const balances = new Map<string, { amount: bigint; indexWad: bigint }>();
  const perps = new Map<string, { market: string; size: bigint; entryPriceWad: bigint; fundingIndexWad: bigint }>();
  const first = columns.start[slot]!;
  const end = first + columns.count[slot]!;
  for (let entry = first; entry < end; entry++) {
    const code = columns.key[entry]!;
    if ((code & FUNDING_ONLY) !== 0) continue;
    const at = entry * WORDS_PER_ENTRY;
    if ((code & PERP) === 0) {
      balances.set(assetIds[code & KEY_MASK]!, {
        amount: readWide(columns.exact, at),
        indexWad: readWide(columns.exact, at + 2),
      });
    } else {
      const market = marketIds[code & KEY_MASK]!;
      perps.set(market, {
        market,
        size: readWide(columns.exact, at),
        entryPriceWad: readWide(columns.exact, at + 2),
        fundingIndexWad: readWide(columns.exact, at + 4),
      });
    }
  }
  return { id, owner: '', balances, perps };
}

/** A screen result that leaves nothing uncertain and matches `mask` on `bits`. */
export function screenAgrees(result: number, mask: number, bits: number): boolean {
  if (mask === MASK_UNKNOWN) return false;
  return ((result >> UNCERTAIN_SHIFT) & bits) === 0 && (result & bits) === (mask & bits);
}

// ── Typed array helpers ──────────────────────────────────────────────────────────────────

type Numeric = Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

function grown<T extends Numeric>(array: T, length: number, fill?: number): T {
  const next = new (array.constructor as new (length: number) => T)(length);
  next.set(array);
  if (fill !== undefined) next.fill(fill, array.length);
  return next;
}

function sharedCopy<T extends Numeric | BigUint64Array>(from: T, to: T): T {
  (to as { set(source: T): void }).set(from);
  return to;
}

function sharedUint32(length: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(length * 4));
}

function sharedUint16(length: number): Uint16Array {
  return new Uint16Array(new SharedArrayBuffer(length * 2));
}

function sharedUint8(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

function sharedBigUint64(length: number): BigUint64Array {
  return new BigUint64Array(new SharedArrayBuffer(length * 8));
}
