import { describe, expect, it } from 'vitest';
import { DEFAULT_WARNING_RATIO_WAD, parseRiskConfig } from './config.ts';
import { WAD } from './fixed.ts';

/** 1e17 = 0.1 in wad. */
const TENTH = WAD / 10n;
const HUNDREDTH = WAD / 100n;

/** The risk.json example of DESIGN.md ("Public contract"), verbatim. */
const DESIGN_EXAMPLE = {
  quote: 'USDC',
  assets: [
    {
      id: 'ETH',
      decimals: 18,
      collateral: { initialWeight: '0.80', maintenanceWeight: '0.85' },
      liability: { initialWeight: '1.10', maintenanceWeight: '1.05' },
      liquidationPenalty: '0.05',
    },
  ],
  markets: [{ id: 'ETH-PERP', base: 'ETH', initialMarginFraction: '0.10', maintenanceMarginFraction: '0.05' }],
};

/** A valid configuration touching every optional field, mutated by each table row below. */
function validConfig(): Record<string, any> {
  return {
    quote: 'USDC',
    warningRatio: '1.1',
    assets: [
      {
        id: 'USDC',
        decimals: 6,
        collateral: { initialWeight: '0.95', maintenanceWeight: '0.98' },
        liability: { initialWeight: '1.05', maintenanceWeight: '1.02' },
        liquidationPenalty: '0.02',
        depositCap: '1000000',
        borrowCap: '500000.5',
      },
      {
        id: 'ETH',
        decimals: 18,
        collateral: { initialWeight: '0.80', maintenanceWeight: '0.85' },
        liability: { initialWeight: '1.10', maintenanceWeight: '1.05' },
        liquidationPenalty: '0.05',
      },
      { id: 'BTC', decimals: 8, collateral: { initialWeight: '0', maintenanceWeight: '1' } },
      // No market is based on DAI and it is not the quote: rows that invalidate a whole asset use it,
      // so that no second issue follows from the first.
      { id: 'DAI', decimals: 18 },
    ],
    markets: [
      { id: 'ETH-PERP', base: 'ETH', initialMarginFraction: '0.10', maintenanceMarginFraction: '0.05' },
      {
        id: 'BTC-PERP',
        base: 'BTC',
        initialMarginFraction: '0.10',
        maintenanceMarginFraction: '0.05',
        sizeScalingFactor: '0.0002',
        positivePnlWeight: { initial: '0.5', maintenance: '0.9' },
      },
    ],
  };
}

function fieldsOf(json: unknown): string[] {
  const result = parseRiskConfig(json);
  if (result.ok) return [];
  return result.error.map((issue) => issue.field);
}

describe('parseRiskConfig: valid configurations', () => {
  it('parses the DESIGN.md risk.json example as written', () => {
    // DESIGN.md's example names "USDC" as quote but lists only ETH among its assets: an
    // unlisted quote is the unit of account, 18 decimals, weight 1 on both sides.
    const result = parseRiskConfig(DESIGN_EXAMPLE);
    expect(result.ok ? [] : result.error).toEqual([]);
    if (!result.ok) return;
    expect(result.value.assets.get('USDC')).toMatchObject({
      decimals: 18,
      collateral: { initialWad: 10n ** 18n, maintenanceWad: 10n ** 18n },
      liability: { initialWad: 10n ** 18n, maintenanceWad: 10n ** 18n },
    });
  });

  it('parses the DESIGN.md example (with its quote asset listed) into exact wads', () => {
    const json = structuredClone(DESIGN_EXAMPLE) as Record<string, any>;
    json.assets.push({ id: 'USDC', decimals: 6 });
    const result = parseRiskConfig(json);
    expect(result.ok ? [] : result.error).toEqual([]);
    if (!result.ok) return;
    const config = result.value;
    expect(config.quote).toBe('USDC');
    expect(config.warningRatioWad).toBe(DEFAULT_WARNING_RATIO_WAD);
    expect(config.warningRatioWad).toBe(1_100_000_000_000_000_000n); // default 1.1
    expect(config.assets.get('ETH')).toMatchObject({
      id: 'ETH',
      decimals: 18,
      unit: 10n ** 18n,
      collateral: { initialWad: 800_000_000_000_000_000n, maintenanceWad: 850_000_000_000_000_000n },
      liability: { initialWad: 1_100_000_000_000_000_000n, maintenanceWad: 1_050_000_000_000_000_000n },
      liquidationPenaltyWad: 50_000_000_000_000_000n,
    });
    // No collateral or liability section: neither collateral nor borrowable; penalty 0; no caps.
    const usdc = config.assets.get('USDC');
    expect(usdc).toMatchObject({ id: 'USDC', decimals: 6, unit: 1_000_000n, liquidationPenaltyWad: 0n });
    expect(usdc?.collateral).toBeUndefined();
    expect(usdc?.liability).toBeUndefined();
    expect(usdc?.depositCap).toBeUndefined();
    expect(usdc?.borrowCap).toBeUndefined();
    expect(config.markets.get('ETH-PERP')).toMatchObject({
      id: 'ETH-PERP',
      base: 'ETH',
      marginFraction: { initialWad: TENTH, maintenanceWad: 5n * HUNDREDTH },
      sizeScalingFactorWad: 0n,
      positivePnlWeight: { initialWad: WAD, maintenanceWad: WAD },
    });
  });

  it('parses every optional field', () => {
    const result = parseRiskConfig(validConfig());
    expect(result.ok ? [] : result.error).toEqual([]);
    if (!result.ok) return;
    const config = result.value;
    expect(config.warningRatioWad).toBe(11n * TENTH);
    const usdc = config.assets.get('USDC');
    expect(usdc?.depositCap).toBe(1_000_000_000_000n); // 1,000,000 USDC in 6-decimal base units
    expect(usdc?.borrowCap).toBe(500_000_500_000n); // 500,000.5 USDC
    expect(config.assets.get('BTC')?.collateral).toEqual({ initialWad: 0n, maintenanceWad: WAD });
    expect(config.assets.get('BTC')?.liability).toBeUndefined();
    expect(config.markets.get('BTC-PERP')?.sizeScalingFactorWad).toBe(200_000_000_000_000n); // 0.0002
    expect(config.markets.get('BTC-PERP')?.positivePnlWeight).toEqual({ initialWad: 5n * TENTH, maintenanceWad: 9n * TENTH });
  });

  it.each([
    ['collateral initial weight 0 and maintenance 1', (c: any) => (c.assets[1].collateral = { initialWeight: '0', maintenanceWeight: '1' })],
    ['collateral initial = maintenance', (c: any) => (c.assets[1].collateral = { initialWeight: '0.9', maintenanceWeight: '0.9' })],
    ['liability weights both exactly 1', (c: any) => (c.assets[1].liability = { initialWeight: '1', maintenanceWeight: '1' })],
    ['liquidation penalty 0', (c: any) => (c.assets[1].liquidationPenalty = '0')],
    ['liquidation penalty just below 0.5', (c: any) => (c.assets[1].liquidationPenalty = '0.499999999999999999')],
    ['warning ratio exactly 1', (c: any) => (c.warningRatio = '1')],
    ['zero caps', (c: any) => Object.assign(c.assets[0], { depositCap: '0', borrowCap: '0' })],
    ['cap with exactly the asset decimals', (c: any) => (c.assets[0].depositCap = '1.000001')],
    ['decimals 0', (c: any) => (c.assets[2].decimals = 0)],
    ['decimals 36', (c: any) => (c.assets[2].decimals = 36)],
    ['no markets', (c: any) => delete c.markets],
    ['margin fractions close to the bounds', (c: any) => Object.assign(c.markets[0], { initialMarginFraction: '0.999999999999999999', maintenanceMarginFraction: '0.000000000000000001' })],
  ])('accepts %s', (_name, mutate) => {
    const config = validConfig();
    mutate(config);
    expect(parseRiskConfig(config).ok ? [] : parseRiskConfig(config)).toEqual([]);
  });
});

describe('parseRiskConfig: one rule per row, reported at its field', () => {
  type Row = [name: string, mutate: (config: any) => unknown, fields: string[]];
  const rows: Row[] = [
    // Unknown fields, at every level.
    ['unknown top-level field', (c) => (c.extra = true), ['extra']],
    ['unknown asset field', (c) => (c.assets[1].color = 'blue'), ['assets[1].color']],
    ['unknown collateral field', (c) => (c.assets[1].collateral.ltv = '0.8'), ['assets[1].collateral.ltv']],
    ['unknown liability field', (c) => (c.assets[0].liability.rate = '0.1'), ['assets[0].liability.rate']],
    ['unknown market field', (c) => (c.markets[0].leverage = '10'), ['markets[0].leverage']],
    [
      'unknown positivePnlWeight field',
      (c) => (c.markets[1].positivePnlWeight.other = '1'),
      ['markets[1].positivePnlWeight.other'],
    ],

    // Ids.
    ['duplicate asset id', (c) => c.assets.push({ id: 'ETH', decimals: 18 }), ['assets[4].id']],
    ['duplicate asset id, the first one kept', (c) => (c.assets[3].id = 'USDC'), ['assets[3].id']],
    ['duplicate market id', (c) => (c.markets[1].id = 'ETH-PERP'), ['markets[1].id']],
    ['market id equal to an asset id', (c) => (c.markets[0].id = 'ETH'), ['markets[0].id']],
    ['invalid asset id', (c) => (c.assets[3].id = 'D A I'), ['assets[3].id']],
    ['asset id too long', (c) => (c.assets[3].id = 'D'.repeat(65)), ['assets[3].id']],
    ['market with unknown base', (c) => (c.markets[0].base = 'SOL'), ['markets[0].base']],
    ['missing quote', (c) => delete c.quote, ['quote']],
    // Without assets, the markets' bases are unknown too: those issues are true, not noise.
    ['missing assets', (c) => delete c.assets, ['assets', 'markets[0].base', 'markets[1].base']],

    // Decimals.
    ['decimals 37', (c) => (c.assets[3].decimals = 37), ['assets[3].decimals']],
    ['decimals -1', (c) => (c.assets[3].decimals = -1), ['assets[3].decimals']],
    ['decimals 6.5', (c) => (c.assets[3].decimals = 6.5), ['assets[3].decimals']],
    ['decimals missing', (c) => delete c.assets[3].decimals, ['assets[3].decimals']],
    ['decimals as a string', (c) => (c.assets[3].decimals = '18'), ['assets[3].decimals']],

    // Collateral weights: initial in [0, 1], maintenance in (0, 1], initial ≤ maintenance.
    ['collateral initial weight below 0', (c) => (c.assets[1].collateral.initialWeight = '-0.1'), ['assets[1].collateral.initialWeight']],
    ['collateral initial weight above 1', (c) => (c.assets[1].collateral = { initialWeight: '1.01', maintenanceWeight: '1' }), ['assets[1].collateral.initialWeight']],
    ['collateral maintenance weight 0', (c) => (c.assets[1].collateral = { initialWeight: '0', maintenanceWeight: '0' }), ['assets[1].collateral.maintenanceWeight']],
    ['collateral maintenance weight above 1', (c) => (c.assets[1].collateral.maintenanceWeight = '1.000000000000000001'), ['assets[1].collateral.maintenanceWeight']],
    ['collateral initial above maintenance', (c) => (c.assets[1].collateral = { initialWeight: '0.9', maintenanceWeight: '0.85' }), ['assets[1].collateral.initialWeight']],
    ['collateral maintenance weight missing', (c) => delete c.assets[1].collateral.maintenanceWeight, ['assets[1].collateral.maintenanceWeight']],

    // Liability weights: both ≥ 1, initial ≥ maintenance.
    ['liability initial weight below 1', (c) => (c.assets[1].liability = { initialWeight: '0.99', maintenanceWeight: '1' }), ['assets[1].liability.initialWeight']],
    ['liability maintenance weight below 1', (c) => (c.assets[1].liability.maintenanceWeight = '0.999999999999999999'), ['assets[1].liability.maintenanceWeight']],
    ['liability initial below maintenance', (c) => (c.assets[1].liability = { initialWeight: '1.05', maintenanceWeight: '1.10' }), ['assets[1].liability.initialWeight']],

    // Margin fractions in (0, 1), initial > maintenance.
    ['initial margin fraction 0', (c) => (c.markets[0].initialMarginFraction = '0'), ['markets[0].initialMarginFraction']],
    ['initial margin fraction 1', (c) => (c.markets[0].initialMarginFraction = '1'), ['markets[0].initialMarginFraction']],
    ['maintenance margin fraction 0', (c) => (c.markets[0].maintenanceMarginFraction = '0'), ['markets[0].maintenanceMarginFraction']],
    ['maintenance margin fraction negative', (c) => (c.markets[0].maintenanceMarginFraction = '-0.05'), ['markets[0].maintenanceMarginFraction']],
    ['maintenance margin fraction 1', (c) => (c.markets[0].maintenanceMarginFraction = '1'), ['markets[0].maintenanceMarginFraction']],
    ['initial equal to maintenance margin fraction', (c) => (c.markets[0].initialMarginFraction = '0.05'), ['markets[0].initialMarginFraction']],
    ['initial below maintenance margin fraction', (c) => (c.markets[0].initialMarginFraction = '0.04'), ['markets[0].initialMarginFraction']],
    ['negative size scaling factor', (c) => (c.markets[1].sizeScalingFactor = '-0.0002'), ['markets[1].sizeScalingFactor']],
    ['positive PnL weight above 1', (c) => (c.markets[1].positivePnlWeight.maintenance = '1.1'), ['markets[1].positivePnlWeight.maintenance']],
    ['positive PnL initial above maintenance', (c) => (c.markets[1].positivePnlWeight = { initial: '1', maintenance: '0.9' }), ['markets[1].positivePnlWeight.initial']],

    // Liquidation penalty in [0, 0.5).
    ['liquidation penalty 0.5', (c) => (c.assets[1].liquidationPenalty = '0.5'), ['assets[1].liquidationPenalty']],
    ['liquidation penalty above 0.5', (c) => (c.assets[1].liquidationPenalty = '0.6'), ['assets[1].liquidationPenalty']],
    ['negative liquidation penalty', (c) => (c.assets[1].liquidationPenalty = '-0.01'), ['assets[1].liquidationPenalty']],

    // Warning ratio ≥ 1.
    ['warning ratio below 1', (c) => (c.warningRatio = '0.99'), ['warningRatio']],
    ['warning ratio 0', (c) => (c.warningRatio = '0'), ['warningRatio']],

    // Caps.
    ['negative deposit cap', (c) => (c.assets[0].depositCap = '-1'), ['assets[0].depositCap']],
    ['negative borrow cap', (c) => (c.assets[0].borrowCap = '-0.5'), ['assets[0].borrowCap']],
    ['borrow cap without liability', (c) => (c.assets[2].borrowCap = '10'), ['assets[2].borrowCap']],
    ['deposit cap with more decimals than USDC', (c) => (c.assets[0].depositCap = '1.0000001'), ['assets[0].depositCap']],
    ['borrow cap with more decimals than BTC', (c) => (c.assets[2].borrowCap = '0.000000001'), ['assets[2].borrowCap']],
    ['deposit cap in exponent notation', (c) => (c.assets[0].depositCap = '1e6'), ['assets[0].depositCap']],

    // JSON numbers where decimal strings belong.
    ['warning ratio as a JSON number', (c) => (c.warningRatio = 1.1), ['warningRatio']],
    ['collateral weight as a JSON number', (c) => (c.assets[1].collateral.initialWeight = 0.8), ['assets[1].collateral.initialWeight']],
    ['liability weight as a JSON number', (c) => (c.assets[1].liability.maintenanceWeight = 1), ['assets[1].liability.maintenanceWeight']],
    ['liquidation penalty as a JSON number', (c) => (c.assets[1].liquidationPenalty = 0.05), ['assets[1].liquidationPenalty']],
    ['deposit cap as a JSON number', (c) => (c.assets[0].depositCap = 1000000), ['assets[0].depositCap']],
    ['margin fraction as a JSON number', (c) => (c.markets[0].maintenanceMarginFraction = 0.05), ['markets[0].maintenanceMarginFraction']],
    ['size scaling factor as a JSON number', (c) => (c.markets[1].sizeScalingFactor = 0.0002), ['markets[1].sizeScalingFactor']],
    ['positive PnL weight as a JSON number', (c) => (c.markets[1].positivePnlWeight.initial = 0.5), ['markets[1].positivePnlWeight.initial']],

    // Malformed decimal strings.
    ['weight "NaN"', (c) => (c.assets[1].collateral.initialWeight = 'NaN'), ['assets[1].collateral.initialWeight']],
    ['weight "+0.8"', (c) => (c.assets[1].collateral.initialWeight = '+0.8'), ['assets[1].collateral.initialWeight']],
    ['weight ".8"', (c) => (c.assets[1].collateral.initialWeight = '.8'), ['assets[1].collateral.initialWeight']],
    ['empty penalty', (c) => (c.assets[1].liquidationPenalty = ''), ['assets[1].liquidationPenalty']],

    // Shapes.
    ['assets not an array', (c) => (c.assets = {}), ['assets', 'markets[0].base', 'markets[1].base']],
    ['asset not an object', (c) => (c.assets[3] = 'DAI'), ['assets[3]']],
    ['markets not an array', (c) => (c.markets = {}), ['markets']],
    ['market not an object', (c) => (c.markets[1] = 'BTC-PERP'), ['markets[1]']],
    ['collateral not an object', (c) => (c.assets[1].collateral = '0.8'), ['assets[1].collateral']],
  ];

  it.each(rows)('%s', (_name, mutate, fields) => {
    const config = validConfig();
    mutate(config);
    expect(fieldsOf(config)).toEqual(fields);
  });

  it('rejects a configuration that is not an object, at the root', () => {
    expect(fieldsOf([])).toEqual(['']);
    expect(fieldsOf(null)).toEqual(['']);
    expect(fieldsOf('{}')).toEqual(['']);
  });

  it('adds an unlisted quote asset as the unit of account, even with no other assets', () => {
    const result = parseRiskConfig({ quote: 'USDC', assets: [] });
    expect(result.ok && [...result.value.assets.keys()]).toEqual(['USDC']);
  });

  it('messages say what is wrong', () => {
    const config = validConfig();
    config.assets[1].liquidationPenalty = '0.5';
    config.assets[0].depositCap = 1000000;
    const result = parseRiskConfig(config);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toEqual([
      { field: 'assets[0].depositCap', message: expect.stringMatching(/JSON number 1000000/) },
      { field: 'assets[1].liquidationPenalty', message: expect.stringContaining('[0, 0.5)') },
    ]);
  });
});

describe('parseRiskConfig: reports every issue at once', () => {
  it('collects issues across levels in one pass', () => {
    const config = validConfig();
    config.extra = 1;
    config.warningRatio = '0.5';
    config.assets[3].decimals = 99;
    config.assets[1].collateral.initialWeight = '0.9'; // above maintenance 0.85
    config.assets[1].liability.initialWeight = '0.5';
    config.assets.push({ id: 'ETH', decimals: 18 });
    config.markets[0].maintenanceMarginFraction = '0.2'; // above initial 0.10
    config.markets[1].positivePnlWeight.x = '1';
    const fields = fieldsOf(config);
    expect(fields).toHaveLength(8);
    expect(new Set(fields)).toEqual(
      new Set([
        'extra',
        'warningRatio',
        'assets[3].decimals',
        'assets[1].collateral.initialWeight',
        'assets[1].liability.initialWeight',
        'assets[4].id',
        'markets[0].initialMarginFraction',
        'markets[1].positivePnlWeight.x',
      ]),
    );
  });
});
