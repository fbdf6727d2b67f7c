/**
 * `collateral serve --demo`: a default configuration (BTC, ETH, SOL, USDC; three perps), a
 * seeded simulated feed, a few hundred demo accounts with varied leverage, and a trickle of
 * deposits and fills, so that within a minute a new user sees prices move, warnings appear
 * and liquidations happen. The demo drives the engine through the same commands as the API.
 *
 * The feed runs an hour of simulated market per second of wall time, so that the moves a
 * liquidation needs come within a minute; the prices are stamped with the wall clock.
 */
import { SYSTEM } from '../core/ledger/state.ts';
import { parseDecimal, WAD_DECIMALS } from '../core/fixed.ts';
import { SimulatedFeed, Xoshiro128 } from '../oracle/feeds/simulated.ts';
import type { ServiceContext } from './context.ts';

export const DEMO_CONFIG = {
  quote: 'USDC',
  warningRatio: '1.25',
  liquidation: { dustUsd: '5', insuranceShare: '0.5', windowMs: 60_000, notionalCapPerWindowUsd: '50000000' },
  assets: [
    {
      id: 'USDC',
      decimals: 6,
      collateral: { initialWeight: '1', maintenanceWeight: '1' },
      liability: { initialWeight: '1.05', maintenanceWeight: '1.02' },
      liquidationPenalty: '0.02',
      interest: { baseRate: '0.01', optimalUtilization: '0.8', slopeBelow: '0.06', slopeAbove: '0.8', reserveFactor: '0.1' },
    },
    {
      id: 'BTC',
      decimals: 8,
      collateral: { initialWeight: '0.8', maintenanceWeight: '0.85' },
      liability: { initialWeight: '1.15', maintenanceWeight: '1.1' },
      liquidationPenalty: '0.05',
    },
    {
      id: 'ETH',
      decimals: 18,
      collateral: { initialWeight: '0.8', maintenanceWeight: '0.85' },
      liability: { initialWeight: '1.15', maintenanceWeight: '1.1' },
      liquidationPenalty: '0.05',
    },
    {
      id: 'SOL',
      decimals: 9,
      collateral: { initialWeight: '0.7', maintenanceWeight: '0.8' },
      liability: { initialWeight: '1.25', maintenanceWeight: '1.2' },
      liquidationPenalty: '0.08',
      depositCap: '5000000',
    },
  ],
  markets: [
    { id: 'BTC-PERP', base: 'BTC', initialMarginFraction: '0.1', maintenanceMarginFraction: '0.05', sizeScalingFactor: '0.00005', liquidationFee: '0.01' },
    { id: 'ETH-PERP', base: 'ETH', initialMarginFraction: '0.1', maintenanceMarginFraction: '0.05', liquidationFee: '0.01' },
    { id: 'SOL-PERP', base: 'SOL', initialMarginFraction: '0.2', maintenanceMarginFraction: '0.1', liquidationFee: '0.015' },
  ],
  oracle: {
    // The demo runs an hour of market a second: the smoothing follows at that pace too.
    defaults: {
      maxAgeMs: 30_000,
      maxDeviationPerUpdate: '0.2',
      maxDeviationPerWindow: '0.5',
      stablePriceGrowthPerHour: '5',
      markHalfLifeMs: 3_000,
    },
  },
};

const FEED_SOURCE = 'demo-feed';
const MARKET_MAKER = 'demo-mm';
const SIMULATED_MS_PER_TICK = 3_600_000;

const ASSETS = [
  { asset: 'BTC', initialPrice: '64000', volatilityPerYear: 1.6, jumpsPerYear: 800, jumpMeanLog: -0.012, jumpStdLog: 0.025, confidenceRatio: 0.0005 },
  { asset: 'ETH', initialPrice: '3200', volatilityPerYear: 2.0, jumpsPerYear: 800, jumpMeanLog: -0.015, jumpStdLog: 0.03, confidenceRatio: 0.0005 },
  { asset: 'SOL', initialPrice: '150', volatilityPerYear: 2.6, jumpsPerYear: 800, jumpMeanLog: -0.02, jumpStdLog: 0.04, confidenceRatio: 0.001 },
  { asset: 'USDC', initialPrice: '1', volatilityPerYear: 0.01, confidenceRatio: 0.0001 },
] as const;

export interface Demo {
  stop(): void;
}

/** Seeds the demo population (once per database) and starts the feed and the flow. */
export async function startDemo(context: ServiceContext, options: { seed: number; accounts: number; tickMs: number }): Promise<Demo> {
  const feed = new SimulatedFeed({
    seed: options.seed,
    startMs: context.clock(),
    stepMs: SIMULATED_MS_PER_TICK,
    assets: ASSETS,
    correlation: 0.6,
    sources: [FEED_SOURCE],
    significantDigits: 8,
  });
  const random = new Xoshiro128(options.seed + 1);
  await pushPrices(context, feed);
  if (!context.engine.ledger.state.accounts.has(MARKET_MAKER)) await seed(context, random, options.accounts);
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    tick(context, feed, random)
      .catch((error: unknown) => console.error('collateral demo:', (error as Error).message))
      .finally(() => {
        running = false;
      });
  }, options.tickMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

async function pushPrices(context: ServiceContext, feed: SimulatedFeed): Promise<void> {
  const now = context.clock();
  await context.prices.push(feed.step().map((update) => ({ ...update, timestampMs: now })));
}

async function tick(context: ServiceContext, feed: SimulatedFeed, random: Xoshiro128): Promise<void> {
  await pushPrices(context, feed);
  // A little flow: a few accounts add margin or trade with the market maker.
  for (let index = 0; index < 3; index += 1) {
    const id = `demo-${String(Math.floor(random.uniform() * 300)).padStart(3, '0')}`;
    if (!context.engine.ledger.state.accounts.has(id)) continue;
    if (random.uniform() < 0.4) await deposit(context, id, 'USDC', (200 + Math.floor(random.uniform() * 2000)).toString());
    else await trade(context, random, id, 0.3 + random.uniform() * 0.6);
  }
}

async function seed(context: ServiceContext, random: Xoshiro128, count: number): Promise<void> {
  await deposit(context, MARKET_MAKER, 'USDC', '500000000');
  await deposit(context, SYSTEM.backstop, 'USDC', '200000000');
  await deposit(context, SYSTEM.insurance, 'USDC', '250000');
  for (let index = 0; index < count; index += 1) {
    const id = `demo-${String(index).padStart(3, '0')}`;
    const style = random.uniform();
    if (style < 0.55) {
      // A perp trader: USDC margin, one or two positions sized to a leverage of 2× to 9.5×.
      await deposit(context, id, 'USDC', (2_000 + Math.floor(random.uniform() * 48_000)).toString());
      await trade(context, random, id, 0.2 + random.uniform() * 0.75);
      if (random.uniform() < 0.4) await trade(context, random, id, 0.2 + random.uniform() * 0.6);
    } else {
      // A borrower: crypto collateral, USDC borrowed up to 40–98% of initial borrowing power.
      const asset = (['BTC', 'ETH', 'SOL'] as const)[Math.floor(random.uniform() * 3)] ?? 'ETH';
      const price = Number(context.engine.ledger.state.prices.get(asset)?.priceWad ?? 0n) / 1e18;
      const valueUsd = 3_000 + random.uniform() * 80_000;
      await deposit(context, id, asset, (valueUsd / price).toFixed(asset === 'BTC' ? 6 : 4));
      const weight = asset === 'SOL' ? 0.7 : 0.8;
      const borrowUsd = (valueUsd * weight * (0.4 + random.uniform() * 0.58)) / 1.05;
      await context.engine.submit({
        kind: 'withdraw',
        idempotencyKey: `demo:borrow:${id}`,
        account: id,
        asset: 'USDC',
        amount: amount('USDC', borrowUsd.toFixed(2)),
      });
    }
  }
}

/**
 * Opens a position using `share` of the account's initial headroom (free margin / initial
 * margin fraction), long or short at random, against the market maker at the mark price.
 */
async function trade(context: ServiceContext, random: Xoshiro128, id: string, share: number): Promise<void> {
  const state = context.engine.ledger.state;
  const market = (['BTC-PERP', 'ETH-PERP', 'SOL-PERP'] as const)[Math.floor(random.uniform() * 3)] ?? 'ETH-PERP';
  const base = market.replace('-PERP', '');
  const price = state.prices.get(base)?.priceWad;
  if (price === undefined) return;
  const usdc = Number(state.accounts.get(id)?.balances.get('USDC')?.amount ?? 0n) / 1e6;
  const imf = market === 'SOL-PERP' ? 0.2 : 0.1;
  const notional = (usdc * share) / imf;
  const sizeText = (notional / (Number(price) / 1e18)).toFixed(base === 'BTC' ? 6 : 3);
  if (Number(sizeText) <= 0) return;
  const long = random.uniform() < 0.5;
  await context.engine.submit({
    kind: 'trade',
    idempotencyKey: `demo:trade:${id}:${context.engine.ledger.headSeq}`,
    market,
    priceWad: price,
    size: amount(base, sizeText),
    buyer: long ? id : MARKET_MAKER,
    seller: long ? MARKET_MAKER : id,
    buyerFeeRateWad: 0n,
    sellerFeeRateWad: 0n,
  });
}

async function deposit(context: ServiceContext, id: string, asset: string, text: string): Promise<void> {
  await context.engine.submit({
    kind: 'deposit',
    idempotencyKey: `demo:deposit:${id}:${asset}:${context.engine.ledger.headSeq}`,
    account: id,
    asset,
    amount: amount(asset, text),
  });
}

function amount(asset: string, text: string): bigint {
  const decimals = DEMO_CONFIG.assets.find((entry) => entry.id === asset)?.decimals ?? WAD_DECIMALS;
  const parsed = parseDecimal(text, decimals);
  if (!parsed.ok) throw new Error(`demo amount ${text}: ${parsed.error.message}`);
  return parsed.value;
}
