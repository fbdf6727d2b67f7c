/**
 * Properties of valuation (health.ts), liquidation prices (liquidation-price.ts) and
 * previews (preview.ts) on random configurations, accounts and prices (test/arbitraries.ts),
 * checked against an exact reference (test/exact.ts) where a value is involved.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adjustBalance, applyFill, type Account } from '../src/core/account.ts';
import type { RiskConfig } from '../src/core/config.ts';
import { WAD } from '../src/core/fixed.ts';
import { evaluateAccount, explainAccount, type AccountHealth, type ExplainedHealth } from '../src/core/health.ts';
import { exposedAssets, liquidationPrices } from '../src/core/liquidation-price.ts';
import { previewWhatIf, type WhatIf } from '../src/core/preview.ts';
import { withPrice, type PriceBook } from '../src/core/prices.ts';
import { bigIntIn, signedAmountArb, whatIfArb, worldArb, type World } from './arbitraries.ts';
import {
  addExact,
  atLeast,
  atMost,
  exact,
  exactContributions,
  exactPnl,
  exactTotals,
  floor,
  fraction,
  LEVELS,
  type Exact,
} from './exact.ts';

const RUNS = { numRuns: 200 } as const;

function evaluate(account: Account, prices: PriceBook, config: RiskConfig): AccountHealth {
  const result = evaluateAccount(account, prices, config);
  if (!result.ok) throw new Error(`valuation failed: ${JSON.stringify(result.error)}`);
  return result.value;
}

function explain(account: Account, prices: PriceBook, config: RiskConfig): ExplainedHealth {
  const result = explainAccount(account, prices, config);
  if (!result.ok) throw new Error(`valuation failed: ${JSON.stringify(result.error)}`);
  return result.value;
}

function keyOf(contribution: ExplainedHealth['breakdown'][number]): string {
  return contribution.kind === 'balance' ? contribution.asset : contribution.market;
}

/** exact − 1 < value ≤ exact: a single floor of a rational. */
function isFloorOf(value: bigint, e: Exact): boolean {
  return atMost(value, e) && !atMost(value + 1n, e);
}

/** exact ≤ value < exact + 1: a single ceiling of a rational. */
function isCeilOf(value: bigint, e: Exact): boolean {
  return atLeast(value, e) && !atLeast(value - 1n, e);
}

describe('rounding never favours the account', () => {
  it('each contribution: assets ≤ exact, liabilities ≥ exact; and the totals likewise', () => {
    fc.assert(
      fc.property(worldArb, ({ config, account, prices }) => {
        const health = evaluate(account, prices, config);
        const { breakdown, ...explainedTotals } = explain(account, prices, config);
        expect(explainedTotals).toEqual(health);
        const reference = exactContributions(account, prices, config);
        expect(breakdown.map(keyOf).sort()).toEqual(reference.map((c) => c.key).sort());
        // Without size-scaled margin every liability is rational, and its total is rounded once.
        const rationalLiabilities = [...account.perps.values()].every(
          (position) => position.size === 0n || config.markets.get(position.market)!.sizeScalingFactorWad === 0n,
        );

        for (const contribution of breakdown) {
          const ref = reference.find((c) => c.key === keyOf(contribution))!;
          for (const level of LEVELS) {
            const got = contribution[level];
            const want = ref[level];
            expect(atMost(got.assetsUsd, want.assets), `${keyOf(contribution)} ${level} assets ≤ exact`).toBe(true);
            expect(atLeast(got.liabilitiesUsd, want.liabilities), `${keyOf(contribution)} ${level} liabilities ≥ exact`).toBe(
              true,
            );
            if (contribution.kind === 'balance') {
              // one rounding each, so never more than one wei away from exact
              expect(isFloorOf(got.assetsUsd, want.assets)).toBe(true);
              expect(isCeilOf(got.liabilitiesUsd, want.liabilities)).toBe(true);
            }
          }
          if (contribution.kind === 'perp') {
            const position = account.perps.get(contribution.market)!;
            expect(contribution.unrealizedPnlUsd).toBe(floor(exactPnl(position, prices, config)));
          } else {
            const price = prices.get(contribution.asset)!;
            const expected =
              contribution.amount > 0n
                ? price.priceWad > price.confidenceWad
                  ? price.priceWad - price.confidenceWad
                  : 0n
                : price.priceWad + price.confidenceWad;
            expect(contribution.priceWad).toBe(expected);
          }
        }

        for (const level of LEVELS) {
          const totals = exactTotals(reference, level);
          const got = health[level];
          expect(atMost(got.assetsUsd, totals.assets), `${level} total assets ≤ exact`).toBe(true);
          expect(atLeast(got.liabilitiesUsd, totals.liabilities), `${level} total liabilities ≥ exact`).toBe(true);
          // one rounding per side and level: the floor of the exact sum, the ceiling of the exact sum
          expect(isFloorOf(got.assetsUsd, totals.assets), `${level} total assets = ⌊exact⌋`).toBe(true);
          if (rationalLiabilities) {
            expect(isCeilOf(got.liabilitiesUsd, totals.liabilities), `${level} total liabilities = ⌈exact⌉`).toBe(true);
          }
          // The breakdown's parts, each rounded on its own, sum to no more assets and no fewer
          // liabilities, by less than one wei per rounded part (⌊Σx⌋ − Σ⌊x⌋ ≤ n − 1 for n parts):
          // one per contribution for assets, up to two per perp (loss and requirement) for liabilities.
          const parts = breakdown.reduce(
            (sum, contribution) => ({
              assets: sum.assets + contribution[level].assetsUsd,
              liabilities: sum.liabilities + contribution[level].liabilitiesUsd,
            }),
            { assets: 0n, liabilities: 0n },
          );
          const count = BigInt(breakdown.length);
          expect(parts.assets <= got.assetsUsd).toBe(true);
          expect(got.assetsUsd - parts.assets <= (count > 0n ? count - 1n : 0n)).toBe(true);
          expect(parts.liabilities >= got.liabilitiesUsd).toBe(true);
          expect(parts.liabilities - got.liabilitiesUsd <= 2n * count).toBe(true);
          // health ≤ exact assets − exact liabilities, i.e. exact liabilities + health ≤ exact assets
          expect(atLeast(got.assetsUsd - got.healthUsd, totals.liabilities)).toBe(true);
          expect(got.healthUsd).toBe(got.assetsUsd - got.liabilitiesUsd);
          if (got.liabilitiesUsd === 0n) {
            expect(got.ratioWad).toBeNull();
          } else {
            // ratio = ⌊assets × WAD / liabilities⌋
            const ratio = got.ratioWad!;
            expect(ratio * got.liabilitiesUsd <= got.assetsUsd * WAD).toBe(true);
            expect((ratio + 1n) * got.liabilitiesUsd > got.assetsUsd * WAD).toBe(true);
          }
        }
        expect(health.liquidatable).toBe(health.maintenance.healthUsd < 0n);
        expect(health.warning).toBe(
          health.maintenance.liabilitiesUsd > 0n &&
            health.maintenance.assetsUsd * WAD < config.warningRatioWad * health.maintenance.liabilitiesUsd,
        );
      }),
      RUNS,
    );
  });

  it('the exact reference agrees with itself on a known case (sanity of the comparisons)', () => {
    // √2 ≈ 1.41421356…, √3 ≈ 1.7320508…
    const root2 = { coefficient: fraction(1n), radicand: 2n };
    expect(atLeast(2n, exact(fraction(0n), [root2]))).toBe(true);
    expect(atLeast(1n, exact(fraction(0n), [root2]))).toBe(false);
    expect(atLeast(3n, exact(fraction(3n, 2n), [root2]))).toBe(true); // 3 ≥ 1.5 + √2 = 2.914…
    expect(atLeast(3n, exact(fraction(16n, 10n), [root2]))).toBe(false); // 3 < 1.6 + √2 = 3.014…
    expect(atLeast(3n, exact(fraction(0n), [root2, root2]))).toBe(true);
    expect(atLeast(3n, exact(fraction(2n, 10n), [root2, root2]))).toBe(false); // 3 < 0.2 + 2√2 = 3.028…
    expect(atLeast(5n, addExact(exact(fraction(1n)), exact(fraction(0n), [root2, { coefficient: fraction(1n), radicand: 3n }])))).toBe(
      true,
    ); // 1 + 1.414 + 1.732 = 4.15
    expect(atLeast(4n, addExact(exact(fraction(1n)), exact(fraction(0n), [root2, { coefficient: fraction(1n), radicand: 3n }])))).toBe(
      false,
    );
  });
});

/**
 * A world whose prices carry, for some assets, a stable price (initial margin values at the
 * less favourable of spot and stable) and a mark price for perps; the exact reference does not
 * model these, so they are checked against the breakdown, which is valued by separate code.
 */
const oracleWorldArb = worldArb.chain((world) => {
  const ids = [...world.prices.keys()];
  const permille = fc.option(bigIntIn(1n, 3000n), { nil: undefined });
  return fc.tuple(...ids.map(() => fc.tuple(permille, permille))).map((extras) => {
    const prices = new Map(world.prices);
    ids.forEach((id, index) => {
      const price = world.prices.get(id)!;
      const [stable, mark] = extras[index]!;
      prices.set(id, {
        ...price,
        ...(stable !== undefined && { stablePriceWad: (price.priceWad * stable) / 1000n + 1n }),
        ...(mark !== undefined && { markPriceWad: (price.priceWad * mark) / 1000n + 1n }),
      });
    });
    return { ...world, prices };
  });
});

describe('totals and breakdown', () => {
  it('with stable and mark prices, each total is its parts up to one wei per rounded part', () => {
    fc.assert(
      fc.property(oracleWorldArb, ({ config, account, prices }) => {
        const { breakdown, ...totals } = explain(account, prices, config);
        expect(evaluate(account, prices, config)).toEqual(totals);
        const count = BigInt(breakdown.length);
        for (const level of LEVELS) {
          let assets = 0n;
          let liabilities = 0n;
          for (const contribution of breakdown) {
            assets += contribution[level].assetsUsd;
            liabilities += contribution[level].liabilitiesUsd;
          }
          // parts ≤ total < parts + count for what is held; parts − 2 × count < total ≤ parts for what is owed
          expect(assets <= totals[level].assetsUsd && totals[level].assetsUsd - assets <= (count > 0n ? count - 1n : 0n)).toBe(true);
          expect(liabilities >= totals[level].liabilitiesUsd && liabilities - totals[level].liabilitiesUsd <= 2n * count).toBe(true);
        }
      }),
      RUNS,
    );
  });
});

/** A world in which asset `index` is held (sign > 0) or owed (sign < 0), with no perp on it. */
function focusedWorldArb(sign: 1n | -1n) {
  return worldArb.chain((world) => {
    const ids = [...world.config.assets.keys()];
    return fc
      .tuple(fc.constantFrom(...ids), bigIntIn(1n, 10n ** 30n), fc.boolean())
      .chain(([asset, rise, keepConfidence]) => {
        const decimals = world.config.assets.get(asset)!.decimals;
        return signedAmountArb(decimals).map((amount) => {
          const magnitude = amount < 0n ? -amount : amount;
          const balances = new Map(world.account.balances).set(asset, sign * magnitude);
          const perps = new Map(
            [...world.account.perps].filter(([market]) => world.config.markets.get(market)?.base !== asset),
          );
          const account: Account = { ...world.account, balances, perps };
          return { ...world, account, asset, rise, keepConfidence };
        });
      });
  });
}

/** The book with `asset` raised by `rise` wei, either through withPrice or with the same confidence. */
function raised(prices: PriceBook, asset: string, rise: bigint, keepConfidence: boolean): PriceBook {
  const current = prices.get(asset)!;
  const priceWad = current.priceWad + rise;
  if (!keepConfidence) return withPrice(prices, asset, priceWad);
  return new Map(prices).set(asset, { priceWad, confidenceWad: current.confidenceWad });
}

describe('prices move health the right way', () => {
  it('raising the price of a held asset never lowers health at either level', () => {
    fc.assert(
      fc.property(focusedWorldArb(1n), ({ config, account, prices, asset, rise, keepConfidence }) => {
        const before = evaluate(account, prices, config);
        const after = evaluate(account, raised(prices, asset, rise, keepConfidence), config);
        expect(after.initial.healthUsd >= before.initial.healthUsd).toBe(true);
        expect(after.maintenance.healthUsd >= before.maintenance.healthUsd).toBe(true);
      }),
      RUNS,
    );
  });

  it('raising the price of a borrowed asset never raises health at either level', () => {
    fc.assert(
      fc.property(focusedWorldArb(-1n), ({ config, account, prices, asset, rise, keepConfidence }) => {
        const before = evaluate(account, prices, config);
        const after = evaluate(account, raised(prices, asset, rise, keepConfidence), config);
        expect(after.initial.healthUsd <= before.initial.healthUsd).toBe(true);
        expect(after.maintenance.healthUsd <= before.maintenance.healthUsd).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('liquidation prices', () => {
  /** Worlds made healthy often enough: the quote-asset collateral is topped up sometimes. */
  const worlds = fc.tuple(worldArb, fc.boolean(), fc.array(fc.bigInt({ min: 1n, max: 999n }), { minLength: 4, maxLength: 4 }));

  it('at each reported price the account is liquidatable, one wei on the safe side it is not', () => {
    let withPricesFound = 0;
    fc.assert(
      fc.property(worlds, ([world, topUp, samples]) => {
        const { config, account, prices } = topUp ? healthier(world) : world;
        const liquidatableAt = (asset: string, priceWad: bigint): boolean =>
          evaluate(account, withPrice(prices, asset, priceWad), config).liquidatable;
        /**
         * Not liquidatable beyond rounding noise. Health is concave in one price only up to
         * the rounding of each term (a wei here and there, and the margin fraction's last
         * digit times the notional), so a dust account can flicker between 0 and −1 wei.
         */
        const nearlySafeAt = (asset: string, priceWad: bigint): boolean => {
          const { maintenance } = evaluate(account, withPrice(prices, asset, priceWad), config);
          const noise = 10n ** 9n + (maintenance.assetsUsd + maintenance.liabilitiesUsd) / 10n ** 15n;
          return maintenance.healthUsd >= -noise;
        };

        const now = evaluate(account, prices, config);
        const list = liquidationPrices(account, prices, config);
        if (now.liquidatable) {
          expect(list).toBeNull();
          return;
        }
        expect(list).not.toBeNull();
        expect(list!.map((entry) => entry.asset)).toEqual(exposedAssets(account, config));
        for (const { asset, currentPriceWad, downWad, upWad } of list!) {
          expect(currentPriceWad).toBe(prices.get(asset)!.priceWad);
          if (downWad !== null) {
            withPricesFound += 1;
            expect(downWad >= 1n && downWad < currentPriceWad).toBe(true);
            expect(liquidatableAt(asset, downWad), `${asset} liquidatable at down`).toBe(true);
            expect(liquidatableAt(asset, downWad + 1n), `${asset} safe one wei above down`).toBe(false);
            // and safe (up to rounding noise) between the down price and the current one
            for (const permille of samples) {
              const between = downWad + 1n + ((currentPriceWad - downWad - 1n) * permille) / 1000n;
              expect(nearlySafeAt(asset, between), `${asset} safe at ${between}`).toBe(true);
            }
          } else if (currentPriceWad > 1n) {
            expect(liquidatableAt(asset, 1n), `${asset} safe at 1 wei`).toBe(false);
            for (const permille of samples) {
              expect(nearlySafeAt(asset, 1n + ((currentPriceWad - 1n) * permille) / 1000n)).toBe(true);
            }
          }
          if (upWad !== null) {
            withPricesFound += 1;
            expect(upWad > currentPriceWad).toBe(true);
            expect(liquidatableAt(asset, upWad), `${asset} liquidatable at up`).toBe(true);
            expect(liquidatableAt(asset, upWad - 1n), `${asset} safe one wei below up`).toBe(false);
            for (const permille of samples) {
              const between = currentPriceWad + ((upWad - 1n - currentPriceWad) * permille) / 1000n;
              expect(nearlySafeAt(asset, between), `${asset} safe at ${between}`).toBe(true);
            }
          } else {
            expect(liquidatableAt(asset, currentPriceWad * (1n << 40n)), `${asset} safe at the search bound`).toBe(false);
            for (const permille of samples) {
              const between = currentPriceWad + ((currentPriceWad * ((1n << 40n) - 1n)) * permille) / 1000n;
              expect(nearlySafeAt(asset, between)).toBe(true);
            }
          }
        }
      }),
      RUNS,
    );
    // the property must have been exercised, not skipped
    expect(withPricesFound).toBeGreaterThan(50);
  });
});

/**
 * The world with enough quote-asset collateral added to make it healthy at maintenance when
 * that is possible (the quote counts as collateral at a positive price): about twice the
 * shortfall, so the account is not always on the edge.
 */
function healthier(world: World): World {
  const { config, account, prices } = world;
  const health = evaluate(account, prices, config);
  const quote = config.assets.get(config.quote)!;
  const price = prices.get(config.quote)!;
  const weight = quote.collateral?.maintenanceWad ?? 0n;
  const low = price.priceWad - price.confidenceWad;
  const balance = account.balances.get(config.quote) ?? 0n;
  if (health.maintenance.healthUsd >= 0n || weight === 0n || low <= 0n || balance < 0n) return world;
  // amount × low × weight / (unit × WAD) ≥ 2 × shortfall
  const shortfall = -health.maintenance.healthUsd;
  const amount = (2n * shortfall * quote.unit * WAD) / (low * weight) + 1n;
  return { ...world, account: adjustBalance(account, config.quote, amount) };
}

describe('previews', () => {
  const scenarios = worldArb.chain((world) =>
    fc.array(whatIfArb(world.config), { minLength: 0, maxLength: 4 }).map((actions) => ({ ...world, actions })),
  );

  /** The same actions applied by hand through the account and price transitions. */
  function byHand(world: World, actions: readonly WhatIf[]): { account: Account; prices: PriceBook } {
    let { account, prices } = world;
    const { config } = world;
    for (const action of actions) {
      switch (action.kind) {
        case 'deposit':
          account = adjustBalance(account, action.asset, action.amount);
          break;
        case 'withdraw':
        case 'borrow':
          account = adjustBalance(account, action.asset, -action.amount);
          break;
        case 'fill': {
          const market = config.markets.get(action.market)!;
          const outcome = applyFill(account, market, config.assets.get(market.base)!, config.assets.get(config.quote)!, {
            size: action.size,
            priceWad: action.priceWad,
            feeRateWad: action.feeRateWad,
          });
          account = outcome.account;
          break;
        }
        case 'price':
          prices = withPrice(prices, action.asset, action.priceWad);
          break;
      }
    }
    return { account, prices };
  }

  it('a preview equals evaluateAccount of the state it describes', () => {
    fc.assert(
      fc.property(scenarios, (world) => {
        const result = previewWhatIf({ account: world.account, prices: world.prices }, world.actions, world.config);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        const hand = byHand(world, world.actions);
        expect(result.value.scenario.account).toEqual(hand.account);
        expect(result.value.scenario.prices).toEqual(hand.prices);
        expect(result.value.before).toEqual(evaluate(world.account, world.prices, world.config));
        expect(result.value.after).toEqual(evaluate(hand.account, hand.prices, world.config));
      }),
      RUNS,
    );
  });
});

describe('purity', () => {
  it('evaluation is deterministic and mutates none of its inputs', () => {
    fc.assert(
      fc.property(worldArb, ({ config, account, prices }) => {
        const snapshot = structuredClone({ config, account, prices });
        const first = evaluateAccount(account, prices, config);
        const second = evaluateAccount(account, prices, config);
        expect(second).toEqual(first);
        // a structurally equal copy gives the same answer: nothing depends on identity or order of calls
        expect(evaluateAccount(snapshot.account, snapshot.prices, snapshot.config)).toEqual(first);
        liquidationPrices(account, prices, config);
        previewWhatIf({ account, prices }, [{ kind: 'price', asset: config.quote, priceWad: WAD }], config);
        expect({ config, account, prices }).toEqual(snapshot);
      }),
      RUNS,
    );
  });
});
