/**
 * The risk monitor at a million accounts: `npm run bench:monitor`.
 *
 * 1,000,000 seeded accounts of bench/population.ts (1–5 balances, 0–3 perps) are written
 * straight into a ledger's state as account records (no commands: a million deposits and
 * trades would only measure the ledger) and indexed by `new RiskMonitor(ledger)`, the path
 * the service takes. Then:
 *  - build time and bytes per account (heap and array buffers the monitor adds, after GC);
 *  - exact full sweep: every account valued by the core on worker threads, on one worker
 *    (one core) and on all;
 *  - screened full sweep: the float screen over every account plus exact confirmation of
 *    the candidates;
 *  - tick-to-decision latency: a price command through the ledger, then `onEvents` until every
 *    candidate is confirmed, for 1 % and 10 % moves of one asset and of all assets (bounded
 *    random walks, seeded);
 *  - the peer: `@aave/math-utils` `formatUserSummary` on 10,000 of the same accounts as Aave
 *    user reserves (balances only: Aave has no perps; debts at weight 1, no confidence), its
 *    health factors checked against the core's on the same Aave-form accounts.
 * The last line sums it up in a fixed form.
 */
import { formatReserves, formatUserSummary, type ReserveDataWithPrice } from '@aave/math-utils';
import { availableParallelism } from 'node:os';
import type { Account } from '../src/core/account.ts';
import { parseRiskConfig, type RiskConfig } from '../src/core/config.ts';
import { WAD } from '../src/core/fixed.ts';
import { evaluateAccount } from '../src/core/health.ts';
import type { PriceCommand } from '../src/core/ledger/commands.ts';
import { Ledger, type SealedEvent } from '../src/core/ledger/ledger.ts';
import type { AccountRecord, StoredBalance, StoredPosition } from '../src/core/ledger/state.ts';
import type { PriceBook } from '../src/core/prices.ts';
import { RiskMonitor } from '../src/monitor/monitor.ts';
import { buildPopulation, mulberry32 } from './population.ts';

/** MONITOR_BENCH_ACCOUNTS overrides the count for a quick run; the figures are for the default. */
const ACCOUNT_COUNT = Number(process.env.MONITOR_BENCH_ACCOUNTS ?? 1_000_000);
const PEER_ACCOUNTS = 10_000;
const SWEEP_REPEATS = 3;
const TICK_SEED = 0x71c4;
const WALK_STEPS_MAX = 2;
const MS_PER_S = 1000;
const RAY = `1${'0'.repeat(27)}`;
const BASE_CURRENCY_DECIMALS = 8;
const USD_PRICE_BASE = '100000000';
const PEER_TIMESTAMP = 1_700_000_000;

interface TickRun {
  readonly name: string;
  readonly movePercent: number;
  readonly allAssets: boolean;
  readonly trials: number;
}

const TICK_RUNS: readonly TickRun[] = [
  { name: 'one asset 1%', movePercent: 1, allAssets: false, trials: 400 },
  { name: 'one asset 10%', movePercent: 10, allAssets: false, trials: 100 },
  { name: 'all assets 1%', movePercent: 1, allAssets: true, trials: 30 },
  { name: 'all assets 10%', movePercent: 10, allAssets: true, trials: 20 },
];

const population = buildPopulation(ACCOUNT_COUNT);
const { config } = population;
const ledger = Ledger.create(config, null);
let commandSeq = 0;
for (const [asset, price] of population.prices) {
  execute({ kind: 'price', idempotencyKey: `bench:${commandSeq++}`, asset, priceWad: price.priceWad, confidenceWad: price.confidenceWad });
}
const peerAccounts = population.accounts.slice(0, PEER_ACCOUNTS);
for (const account of population.accounts) ledger.state.accounts.set(account.id, toRecord(account));
(population.accounts as Account[]).length = 0;
console.log(`monitor: ${ACCOUNT_COUNT.toLocaleString('en-US')} accounts in the ledger's state, ${config.assets.size} assets, ${config.markets.size} markets`);

// ── Build ──────────────────────────────────────────────────────────────────────────────
const memoryBefore = settledMemory();
let startMs = performance.now();
const monitor = new RiskMonitor(ledger);
const buildMs = performance.now() - startMs;
const memoryAfter = settledMemory();
const bytesPerAccount = Math.round((memoryAfter - memoryBefore) / ACCOUNT_COUNT);
const columnBytesPerAccount = Math.round(monitor.columnBytes() / ACCOUNT_COUNT);
console.log(`monitor: build ${fixed(buildMs)} ms (${fixed((ACCOUNT_COUNT / buildMs) * MS_PER_S / 1e6, 2)} M accounts/s)`);
console.log(`monitor: ${bytesPerAccount} bytes per account (heap + buffers added by the monitor; columns alone ${columnBytesPerAccount})`);

// ── Exact full sweeps ──────────────────────────────────────────────────────────────────
const workers = availableParallelism();
startMs = performance.now();
const startupAlerts = monitor.sweep(workers);
const startupSweepMs = performance.now() - startMs;
const counts = monitor.counts();
console.log(
  `monitor: start-up sweep ${fixed(startupSweepMs)} ms on ${workers} workers (worker start included): ` +
    `${counts.liquidatable} liquidatable, ${counts.warning} in warning, ${startupAlerts.length} alerts`,
);
const sweepOneMs = medianOf(SWEEP_REPEATS, () => monitor.sweep(1));
checkSweep();
const sweepAllMs = medianOf(SWEEP_REPEATS, () => monitor.sweep(workers));
checkSweep();
const exactPerSecond = (ACCOUNT_COUNT / sweepOneMs) * MS_PER_S;
console.log(`monitor: exact sweep, 1 worker (one core): ${fixed(sweepOneMs)} ms, ${fixed(exactPerSecond / 1e3)} k accounts/s`);
console.log(`monitor: exact sweep, ${workers} workers: ${fixed(sweepAllMs)} ms`);

// ── Screened full sweep ────────────────────────────────────────────────────────────────
const screenedSweepMs = medianOf(SWEEP_REPEATS, () => monitor.screenAll());
console.log(
  `monitor: screened sweep ${fixed(screenedSweepMs)} ms (${fixed((screenedSweepMs * 1e6) / ACCOUNT_COUNT, 0)} ns per account, ` +
    `${monitor.lastPass.candidates} candidates confirmed exactly)`,
);

// ── Ticks ──────────────────────────────────────────────────────────────────────────────
const assets = [...config.assets.keys()];
const basePrices = new Map(population.prices);
const walk = new Map(assets.map((asset) => [asset, 0]));
const random = mulberry32(TICK_SEED);
runTicks({ name: 'warm-up', movePercent: 1, allAssets: false, trials: 50 });
const tickP99 = new Map<string, number>();
for (const run of TICK_RUNS) tickP99.set(run.name, runTicks(run));
const finalSweep = monitor.sweep(workers);
console.log(`monitor: sweep after the ticks: ${monitor.lastSweep?.mismatches ?? '?'} mismatches, ${finalSweep.length} alerts`);

// ── The peer ───────────────────────────────────────────────────────────────────────────
const peer = benchAave(peerAccounts, population.prices);
const exactVsAave = exactPerSecond / peer.accountsPerSecond;
console.log(
  `monitor: peer @aave/math-utils formatUserSummary: ${fixed(peer.accountsPerSecond)} accounts/s ` +
    `(${fixed(MS_PER_S * 1000 / peer.accountsPerSecond, 1)} µs each) on ${PEER_ACCOUNTS} accounts; ` +
    `core on the same Aave-form accounts: ${fixed(peer.corePerSecond / 1e3)} k accounts/s; ` +
    `health factors agree within ${peer.maxRelativeDifference.toExponential(2)} (relative) on ${peer.compared} accounts with debt`,
);
console.log(
  `monitor: exact vs peer: ${fixed(exactVsAave, 1)}x (full accounts, one core), ` +
    `${fixed(peer.corePerSecond / peer.accountsPerSecond, 1)}x like for like; ` +
    `screened sweep decides ${fixed((ACCOUNT_COUNT / screenedSweepMs) * MS_PER_S / peer.accountsPerSecond, 0)}x the peer's accounts/s exactly`,
);
console.log(
  `monitor: accounts=${ACCOUNT_COUNT} bytesPerAccount=${bytesPerAccount} exactSweepMs=${fixed(sweepAllMs)} ` +
    `screenedSweepMs=${fixed(screenedSweepMs)} tick1pctP99Ms=${fixed(tickP99.get('one asset 1%')!, 2)} ` +
    `tick10pctP99Ms=${fixed(tickP99.get('one asset 10%')!, 2)} exactVsAave=${fixed(exactVsAave, 1)}x`,
);
await monitor.close();

// ── Helpers ────────────────────────────────────────────────────────────────────────────

function execute(command: PriceCommand): readonly SealedEvent[] {
  const result = ledger.execute(command);
  if (!result.ok) throw new Error(`benchmark price refused: ${result.error.code}`);
  return result.value.events;
}

/** The population's account as the ledger stores it: settled at the initial indexes, no funding. */
function toRecord(account: Account): AccountRecord {
  const balances = new Map<string, StoredBalance>();
  for (const [asset, amount] of account.balances) balances.set(asset, { amount, indexWad: WAD });
  const perps = new Map<string, StoredPosition>();
  for (const [market, position] of account.perps) perps.set(market, { ...position, fundingIndexWad: 0n });
  return { id: account.id, owner: account.id, balances, perps };
}

function checkSweep(): void {
  const mismatches = monitor.lastSweep?.mismatches ?? -1;
  if (mismatches !== 0) throw new Error(`benchmark: the sweep changed ${mismatches} decisions of the incremental path`);
}

/** One tick per trial; returns the p99 latency in ms and prints p50/p99/max. */
function runTicks(run: TickRun): number {
  const latenciesMs: number[] = [];
  let candidates = 0;
  let screened = 0;
  let alerts = 0;
  for (let trial = 0; trial < run.trials; trial++) {
    const moving = run.allAssets ? assets : [assets[Math.floor(random() * assets.length)]!];
    const commands = moving.map((asset) => stepPrice(asset, run.movePercent));
    const start = performance.now();
    const events: SealedEvent[] = [];
    for (const command of commands) events.push(...execute(command));
    alerts += monitor.onEvents(events).length;
    latenciesMs.push(performance.now() - start);
    candidates += monitor.lastPass.candidates;
    screened += monitor.lastPass.screened;
  }
  latenciesMs.sort((a, b) => a - b);
  const p99 = percentile(latenciesMs, 0.99);
  if (run.name !== 'warm-up') {
    console.log(
      `monitor: tick ${run.name}: p50 ${fixed(percentile(latenciesMs, 0.5), 2)} ms, p99 ${fixed(p99, 2)} ms, ` +
        `max ${fixed(latenciesMs[latenciesMs.length - 1]!, 2)} ms over ${run.trials} ticks; per tick ` +
        `${fixed(screened / run.trials)} screened, ${fixed(candidates / run.trials, 1)} confirmed exactly, ${fixed(alerts / run.trials, 1)} alerts`,
    );
  }
  return p99;
}

/** Moves an asset one step of a random walk of ±movePercent, within ±WALK_STEPS_MAX steps of its start. */
function stepPrice(asset: string, movePercent: number): PriceCommand {
  const position = walk.get(asset)!;
  const up = position <= -WALK_STEPS_MAX ? true : position >= WALK_STEPS_MAX ? false : random() < 0.5;
  const next = position + (up ? 1 : -1);
  walk.set(asset, next);
  const base = basePrices.get(asset)!;
  // Benchmark input: the factor is drawn in floats and turned into an integer scale once.
  const factorNano = BigInt(Math.round((1 + movePercent / 100) ** next * 1e9));
  return {
    kind: 'price',
    idempotencyKey: `bench:${commandSeq++}`,
    asset,
    priceWad: (base.priceWad * factorNano) / 1_000_000_000n,
    confidenceWad: (base.confidenceWad * factorNano) / 1_000_000_000n,
  };
}

interface PeerFigures {
  readonly accountsPerSecond: number;
  readonly corePerSecond: number;
  readonly maxRelativeDifference: number;
  readonly compared: number;
}

/**
 * `formatUserSummary` for each account as Aave user reserves: collateral weights as LTV and
 * liquidation threshold, debts at weight 1, spot prices in 8-decimal base currency.
 */
function benchAave(accounts: readonly Account[], prices: PriceBook): PeerFigures {
  const aaveConfig = aaveFormConfig(config);
  const spot: PriceBook = new Map([...prices].map(([asset, price]) => [asset, { priceWad: price.priceWad, confidenceWad: 0n }]));
  const addresses = new Map([...config.assets.keys()].map((asset, index) => [asset, `0x${(index + 1).toString(16).padStart(40, '0')}`]));
  const reserves: ReserveDataWithPrice[] = [...config.assets.values()].map((asset, index) => ({
    originalId: index,
    id: asset.id,
    symbol: asset.id,
    name: asset.id,
    decimals: asset.decimals,
    underlyingAsset: addresses.get(asset.id)!,
    usageAsCollateralEnabled: asset.collateral !== undefined,
    reserveFactor: '0',
    baseLTVasCollateral: basisPoints(asset.collateral?.initialWad ?? 0n),
    reserveLiquidationThreshold: basisPoints(asset.collateral?.maintenanceWad ?? 0n),
    reserveLiquidationBonus: '10500',
    liquidityIndex: RAY,
    variableBorrowIndex: RAY,
    variableBorrowRate: '0',
    liquidityRate: '0',
    availableLiquidity: '0',
    totalScaledVariableDebt: '0',
    lastUpdateTimestamp: PEER_TIMESTAMP,
    borrowCap: '0',
    supplyCap: '0',
    debtCeiling: '0',
    debtCeilingDecimals: 2,
    isolationModeTotalDebt: '0',
    virtualUnderlyingBalance: '0',
    deficit: '0',
    priceInMarketReferenceCurrency: (spot.get(asset.id)!.priceWad / 10n ** BigInt(18 - BASE_CURRENCY_DECIMALS)).toString(),
  }));
  const formattedReserves = formatReserves({
    reserves,
    currentTimestamp: PEER_TIMESTAMP,
    marketReferencePriceInUsd: USD_PRICE_BASE,
    marketReferenceCurrencyDecimals: BASE_CURRENCY_DECIMALS,
  });
  const users = accounts.map((account) =>
    [...account.balances].map(([asset, amount]) => ({
      underlyingAsset: addresses.get(asset)!,
      scaledATokenBalance: amount > 0n ? amount.toString() : '0',
      usageAsCollateralEnabledOnUser: true,
      scaledVariableDebt: amount < 0n ? (-amount).toString() : '0',
    })),
  );
  const summarize = (userReserves: (typeof users)[number]): string =>
    formatUserSummary({
      currentTimestamp: PEER_TIMESTAMP,
      marketReferencePriceInUsd: USD_PRICE_BASE,
      marketReferenceCurrencyDecimals: BASE_CURRENCY_DECIMALS,
      userReserves,
      formattedReserves,
      userEmodeCategoryId: 0,
    }).healthFactor;
  for (const user of users.slice(0, 1000)) summarize(user);
  let start = performance.now();
  const healthFactors = users.map(summarize);
  const peerMs = performance.now() - start;

  const aaveForm = accounts.map((account) => ({ ...account, perps: new Map() }));
  for (const account of aaveForm.slice(0, 1000)) evaluateAccount(account, spot, aaveConfig);
  start = performance.now();
  const ratios = aaveForm.map((account) => {
    const health = evaluateAccount(account, spot, aaveConfig);
    if (!health.ok) throw new Error(`benchmark: ${account.id} cannot be valued: ${health.error.code}`);
    return health.value.maintenance.ratioWad;
  });
  const coreMs = performance.now() - start;
  let maxRelativeDifference = 0;
  let compared = 0;
  ratios.forEach((ratioWad, index) => {
    if (ratioWad === null) return;
    const ours = Number(ratioWad) / 1e18;
    const theirs = Number(healthFactors[index]);
    maxRelativeDifference = Math.max(maxRelativeDifference, Math.abs(ours - theirs) / Math.max(ours, 1e-18));
    compared += 1;
  });
  return {
    accountsPerSecond: (accounts.length / peerMs) * MS_PER_S,
    corePerSecond: (accounts.length / coreMs) * MS_PER_S,
    maxRelativeDifference,
    compared,
  };
}

/** The population's configuration in Aave's terms: liability weights 1, no markets. */
function aaveFormConfig(source: RiskConfig): RiskConfig {
  const weight = (value: bigint): string => (Number(value) / 1e18).toString();
  const parsed = parseRiskConfig({
    quote: source.quote,
    warningRatio: '1.1',
    assets: [...source.assets.values()].map((asset) => ({
      id: asset.id,
      decimals: asset.decimals,
      ...(asset.collateral && {
        collateral: { initialWeight: weight(asset.collateral.initialWad), maintenanceWeight: weight(asset.collateral.maintenanceWad) },
      }),
      liability: { initialWeight: '1', maintenanceWeight: '1' },
    })),
  });
  if (!parsed.ok) throw new Error(`benchmark: Aave-form configuration invalid: ${JSON.stringify(parsed.error)}`);
  return parsed.value;
}

function basisPoints(valueWad: bigint): string {
  return ((valueWad * 10_000n) / WAD).toString();
}

function medianOf(repeats: number, run: () => unknown): number {
  const samples: number[] = [];
  for (let index = 0; index < repeats; index++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

function percentile(sorted: readonly number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)]!;
}

/** Heap used plus array buffers after a full collection (needs --expose-gc). */
function settledMemory(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('benchmark: run with --expose-gc (npm run bench:monitor does)');
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

function fixed(value: number, digits = 0): string {
  return value.toFixed(digits);
}

