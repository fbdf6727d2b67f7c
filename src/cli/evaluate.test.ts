/**
 * `collateral evaluate` end to end: the real command in a child process, files on disk.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLES = join(REPO, 'examples');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function collateral(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile('node', ['bin/collateral.js', ...args], { cwd: REPO, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

let dir = '';
let exampleRisk: unknown;
let examplePortfolios: Array<Record<string, any>>;
let examplePrices: Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'collateral-evaluate-'));
  const load = async (name: string): Promise<any> => JSON.parse(await readFile(join(EXAMPLES, name), 'utf8'));
  exampleRisk = await load('risk.json');
  examplePortfolios = await load('portfolios.json');
  examplePrices = await load('prices.json');
});

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

let fileCounter = 0;
/** Writes `content` (JSON-encoded unless a string) to a fresh file in the temp dir. */
async function file(name: string, content: unknown): Promise<string> {
  fileCounter += 1;
  const path = join(dir, `${fileCounter}-${name}`);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Runs evaluate on the example files with some of them replaced. */
async function evaluateWith(replace: { risk?: unknown; portfolios?: unknown; prices?: unknown }): Promise<{
  run: Run;
  paths: { risk: string; portfolios: string; prices: string };
}> {
  const paths = {
    risk: await file('risk.json', replace.risk ?? exampleRisk),
    portfolios: await file('portfolios.json', replace.portfolios ?? examplePortfolios),
    prices: await file('prices.json', replace.prices ?? examplePrices),
  };
  const run = await collateral(['evaluate', '--config', paths.risk, '--portfolios', paths.portfolios, '--prices', paths.prices]);
  return { run, paths };
}

function expectUsageError(run: Run, ...mentions: string[]): void {
  expect(run.code, `exit code; stderr: ${run.stderr}`).toBe(2);
  expect(run.stdout).toBe('');
  for (const mention of mentions) expect(run.stderr).toContain(mention);
}

describe('collateral evaluate on examples/', () => {
  let results: Array<Record<string, any>>;

  beforeAll(async () => {
    const run = await collateral([
      'evaluate',
      '--config',
      'examples/risk.json',
      '--portfolios',
      'examples/portfolios.json',
      '--prices',
      'examples/prices.json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    results = JSON.parse(run.stdout);
  });

  it('prints a JSON array with one result per account, in input order', () => {
    expect(Array.isArray(results)).toBe(true);
    expect(results.map((result) => result.id)).toEqual(['alice', 'bob']);
  });

  it('values alice as computed by hand', () => {
    // Inputs: ETH 1.5 at 3000.12 (no confidence); USDC −1000 at 1 ± 0.0005; ETH-PERP −2 from 3000.
    //
    // ETH collateral, price_low = 3000.12: 1.5 × 3000.12 = 4500.18
    //   initial     × 0.80 = 3600.144
    //   maintenance × 0.85 = 3825.153
    // USDC debt, price_high = 1.0005: 1000 × 1.0005 = 1000.5
    //   initial     × 1.05 = 1050.525
    //   maintenance × 1.02 = 1020.51
    // ETH-PERP short 2, mark 3000.12: PnL = −2 × (3000.12 − 3000) = −0.24 → liability 0.24
    //   notional 2 × 3000.12 = 6000.24; requirement initial × 0.10 = 600.024, maintenance × 0.05 = 300.012
    //   initial 0.24 + 600.024 = 600.264; maintenance 0.24 + 300.012 = 300.252
    // initial:     assets 3600.144, liabilities 1050.525 + 600.264 = 1650.789, health 1949.355
    //              ratio 3600.144 / 1650.789 = 2.18086260569945644173… → floor 2.180862605699456441
    // maintenance: assets 3825.153, liabilities 1020.51 + 300.252 = 1320.762, health 2504.391
    //              ratio 3825.153 / 1320.762 = 2.89617130111253957942… → floor 2.896171301112539579
    const alice = results[0]!;
    expect(alice.initial).toEqual({
      assets: '3600.144000000000000000',
      liabilities: '1650.789000000000000000',
      health: '1949.355000000000000000',
      ratio: '2.180862605699456441',
    });
    expect(alice.maintenance).toEqual({
      assets: '3825.153000000000000000',
      liabilities: '1320.762000000000000000',
      health: '2504.391000000000000000',
      ratio: '2.896171301112539579',
    });
    expect(alice.liquidatable).toBe(false);
    expect(alice.breakdown).toMatchObject([
      {
        kind: 'balance',
        asset: 'ETH',
        amount: '1.5',
        side: 'collateral',
        price: '3000.120000000000000000',
        initial: { assets: '3600.144000000000000000', liabilities: '0.000000000000000000' },
        maintenance: { assets: '3825.153000000000000000', liabilities: '0.000000000000000000' },
      },
      {
        kind: 'balance',
        asset: 'USDC',
        amount: '-1000',
        side: 'liability',
        price: '1.000500000000000000',
        initial: { assets: '0.000000000000000000', liabilities: '1050.525000000000000000' },
        maintenance: { assets: '0.000000000000000000', liabilities: '1020.510000000000000000' },
      },
      {
        kind: 'perp',
        market: 'ETH-PERP',
        size: '-2',
        entryPrice: '3000.000000000000000000',
        markPrice: '3000.120000000000000000',
        unrealizedPnl: '-0.240000000000000000',
        marginFraction: { initial: '0.100000000000000000', maintenance: '0.050000000000000000' },
        initial: { assets: '0.000000000000000000', liabilities: '600.264000000000000000' },
        maintenance: { assets: '0.000000000000000000', liabilities: '300.252000000000000000' },
      },
    ]);
  });

  it("finds alice's ETH liquidation price at the first wei where rounded health turns negative", () => {
    // Maintenance health with ETH at p (> 3000, the short loses):
    //   1.275p (ETH) − 1020.51 (USDC) − 2(p − 3000) (PnL) − 0.1p (requirement) = 4979.49 − 0.825p
    // Zero at p = 4979.49 / 0.825 = 6035.745454…; below the current price health only grows
    // (the same line, PnL weight 1), so there is no down price.
    // At p = 6035.745454545454545454: ETH ⌊1.5 × 0.85 × p⌋ = 7695.575454545454545453,
    //   PnL 6071.490909090909090908 + requirement ⌈0.1p⌉ 603.574545454545454546 + 1020.51
    //   = 7695.575454545454545454 → health −1e−18: liquidatable.
    // One wei lower: 7695.575454545454545452 against 6071.490909090909090906 + 603.574545454545454546
    //   + 1020.51 = 7695.575454545454545452 → health 0: not liquidatable.
    const eth = results[0]!.liquidationPrices.find((entry: any) => entry.asset === 'ETH');
    expect(eth).toEqual({ asset: 'ETH', current: '3000.120000000000000000', down: null, up: '6035.745454545454545454' });
  });

  it('values bob as computed by hand', () => {
    // Inputs: USDC 5000 at 1 ± 0.0005; BTC-PERP long 0.5 from 64000, mark 63000; size scaling 0.0002.
    //
    // USDC collateral, price_low = 0.9995: 5000 × 0.9995 = 4997.5
    //   initial × 0.95 = 4747.625; maintenance × 0.98 = 4897.55
    // BTC-PERP: PnL = 0.5 × (63000 − 64000) = −500 → liability 500
    //   notional 0.5 × 63000 = 31500; scaled fraction 0.0002 × √31500 = 0.0002 × 177.48… = 0.0355
    //   is below both base fractions, so 0.10 and 0.05 apply: requirement 3150 and 1575
    //   initial 500 + 3150 = 3650; maintenance 500 + 1575 = 2075
    // initial:     health 4747.625 − 3650 = 1097.625; ratio 4747.625 / 3650 = 1.30071917808219178082… → 1.300719178082191780
    // maintenance: health 4897.55 − 2075 = 2822.55;   ratio 4897.55 / 2075 = 2.36026506024096385542… → 2.360265060240963855
    const bob = results[1]!;
    expect(bob.initial).toEqual({
      assets: '4747.625000000000000000',
      liabilities: '3650.000000000000000000',
      health: '1097.625000000000000000',
      ratio: '1.300719178082191780',
    });
    expect(bob.maintenance).toEqual({
      assets: '4897.550000000000000000',
      liabilities: '2075.000000000000000000',
      health: '2822.550000000000000000',
      ratio: '2.360265060240963855',
    });
    expect(bob.liquidatable).toBe(false);
    expect(bob.breakdown).toMatchObject([
      { kind: 'balance', asset: 'USDC', amount: '5000', side: 'collateral', price: '0.999500000000000000' },
      {
        kind: 'perp',
        market: 'BTC-PERP',
        size: '0.5',
        unrealizedPnl: '-500.000000000000000000',
        marginFraction: { initial: '0.100000000000000000', maintenance: '0.050000000000000000' },
        initial: { assets: '0.000000000000000000', liabilities: '3650.000000000000000000' },
        maintenance: { assets: '0.000000000000000000', liabilities: '2075.000000000000000000' },
      },
    ]);
  });

  it("finds bob's BTC liquidation price below the current price", () => {
    // Maintenance health with BTC at p < 64000: 4897.55 − 0.5(64000 − p) − 0.025p = 0.475p − 27102.45
    // Zero at p = 27102.45 / 0.475 = 57057.78947368421052631578…
    // At 57057.789473684210526315: PnL ⌈0.5 × 6942.210526315789473685⌉ = 3471.105263157894736843,
    //   requirement ⌈0.025p⌉ = 1426.444736842105263158, total 4897.550000000000000001 → liquidatable.
    // One wei higher: 3471.105263157894736842 + 1426.444736842105263158 = 4897.55 → health 0: not.
    const btc = results[1]!.liquidationPrices.find((entry: any) => entry.asset === 'BTC');
    expect(btc).toMatchObject({ asset: 'BTC', current: '63000.000000000000000000', down: '57057.789473684210526315' });
  });
});

describe('collateral evaluate: invalid input exits 2, prints nothing on stdout, names file, account and field', () => {
  const withBalance = (asset: string, amount: unknown) => {
    const portfolios = structuredClone(examplePortfolios);
    portfolios[0]!.balances[asset] = amount;
    return portfolios;
  };

  it.each([
    ['exponent notation', '1e5'],
    ['NaN', 'NaN'],
    ['more decimals than USDC (6)', '1.0000001'],
    ['a JSON number', 1000],
  ])('malformed amount: %s', async (_name, amount) => {
    const { run, paths } = await evaluateWith({ portfolios: withBalance('USDC', amount) });
    expectUsageError(run, paths.portfolios, '"alice"', '[0].balances.USDC');
  });

  it('malformed amount: the message says at most 6 decimals', async () => {
    const { run } = await evaluateWith({ portfolios: withBalance('USDC', '1.0000001') });
    expectUsageError(run, 'at most 6');
  });

  it('unknown asset', async () => {
    const { run, paths } = await evaluateWith({ portfolios: withBalance('DOGE', '1') });
    expectUsageError(run, paths.portfolios, '"alice"', '[0].balances.DOGE', 'unknown asset');
  });

  it('unknown market', async () => {
    const portfolios = structuredClone(examplePortfolios);
    portfolios[1]!.perps[0].market = 'SOL-PERP';
    const { run, paths } = await evaluateWith({ portfolios });
    expectUsageError(run, paths.portfolios, '"bob"', '[1].perps[0].market', 'SOL-PERP');
  });

  it('a held asset without a price', async () => {
    const { ETH: _eth, ...prices } = examplePrices;
    const { run, paths } = await evaluateWith({ prices });
    expectUsageError(run, paths.prices, '"alice"', 'ETH');
  });

  it('a perp whose base has no price', async () => {
    // bob holds no BTC, only BTC-PERP: the missing price is the perp's mark.
    const { BTC: _btc, ...prices } = examplePrices;
    const { run, paths } = await evaluateWith({ prices });
    expectUsageError(run, paths.prices, '"bob"', 'BTC');
  });

  it.each([
    ['zero price', { ETH: '0' }, 'ETH'],
    ['negative price', { ETH: '-3000.12' }, 'ETH'],
    ['zero price in object form', { USDC: { price: '0', confidence: '0' } }, 'USDC.price'],
    ['price in exponent notation', { BTC: '6.3e4' }, 'BTC'],
  ])('non-positive or malformed price: %s', async (_name, change, field) => {
    const { run, paths } = await evaluateWith({ prices: { ...examplePrices, ...change } });
    expectUsageError(run, paths.prices, field);
  });

  it('invalid risk configuration names the config file and the field', async () => {
    const risk = structuredClone(exampleRisk) as Record<string, any>;
    risk.assets[1].liquidationPenalty = '0.5';
    const { run, paths } = await evaluateWith({ risk });
    expectUsageError(run, paths.risk, 'assets[1].liquidationPenalty');
  });

  it.each([
    ['portfolios', '[{ "id": "alice", }]'],
    ['prices', '{ "ETH": "3000" '],
    ['risk', ''],
  ] as const)('invalid JSON in %s', async (which, text) => {
    const { run, paths } = await evaluateWith({ [which]: text });
    expectUsageError(run, paths[which], 'invalid JSON');
  });

  it('missing file', async () => {
    const missing = join(dir, 'does-not-exist.json');
    const run = await collateral([
      'evaluate',
      '--config',
      'examples/risk.json',
      '--portfolios',
      missing,
      '--prices',
      'examples/prices.json',
    ]);
    expectUsageError(run, missing, 'ENOENT');
  });

  it.each(['--config', '--portfolios', '--prices'])('missing flag %s', async (flag) => {
    const all = ['--config', 'examples/risk.json', '--portfolios', 'examples/portfolios.json', '--prices', 'examples/prices.json'];
    const index = all.indexOf(flag);
    const args = [...all.slice(0, index), ...all.slice(index + 2)];
    const run = await collateral(['evaluate', ...args]);
    expectUsageError(run, flag, 'required');
  });

  it('unknown flag', async () => {
    const run = await collateral([
      'evaluate',
      '--config',
      'examples/risk.json',
      '--portfolios',
      'examples/portfolios.json',
      '--prices',
      'examples/prices.json',
      '--verbose',
      'yes',
    ]);
    expectUsageError(run, '--verbose');
  });
});
