import { describe, expect, it } from 'vitest';
import { parseRiskConfig, type RiskConfig } from './config.ts';
import { WAD } from './fixed.ts';
import { parsePortfolios } from './portfolio.ts';

function riskConfig(): RiskConfig {
  const result = parseRiskConfig({
    quote: 'USDC',
    assets: [
      { id: 'USDC', decimals: 6, collateral: { initialWeight: '0.95', maintenanceWeight: '0.98' } },
      { id: 'ETH', decimals: 18, collateral: { initialWeight: '0.80', maintenanceWeight: '0.85' } },
      { id: 'BTC', decimals: 8 },
    ],
    markets: [
      { id: 'ETH-PERP', base: 'ETH', initialMarginFraction: '0.10', maintenanceMarginFraction: '0.05' },
      { id: 'BTC-PERP', base: 'BTC', initialMarginFraction: '0.10', maintenanceMarginFraction: '0.05' },
    ],
  });
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
}

const CONFIG = riskConfig();

interface IssueSummary {
  field: string;
  account: string | undefined;
}

function issuesOf(json: unknown): IssueSummary[] {
  const result = parsePortfolios(json, CONFIG);
  return result.ok ? [] : result.error.map((issue) => ({ field: issue.field, account: issue.account }));
}

describe('parsePortfolios: accepted portfolios', () => {
  it('reads the DESIGN.md example into base units', () => {
    const result = parsePortfolios(
      [
        {
          id: 'alice',
          balances: { ETH: '1.5', USDC: '-1000' },
          perps: [{ market: 'ETH-PERP', size: '-2', entryPrice: '3000' }],
        },
      ],
      CONFIG,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const [alice] = result.value;
    expect(result.value).toHaveLength(1);
    expect(alice?.id).toBe('alice');
    // 1.5 ETH at 18 decimals; −1000 USDC at 6 decimals
    expect([...(alice?.balances ?? [])]).toEqual([
      ['ETH', 1_500_000_000_000_000_000n],
      ['USDC', -1_000_000_000n],
    ]);
    // size −2 ETH in base units; entry 3000 as a wad
    expect([...(alice?.perps ?? [])]).toEqual([
      ['ETH-PERP', { market: 'ETH-PERP', size: -2_000_000_000_000_000_000n, entryPriceWad: 3000n * WAD }],
    ]);
  });

  it('accepts exactly as many decimals as the asset has', () => {
    const result = parsePortfolios(
      [{ id: 'a', balances: { USDC: '0.000001', BTC: '-0.00000001' }, perps: [{ market: 'BTC-PERP', size: '0.00000001', entryPrice: '1' }] }],
      CONFIG,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value[0]?.balances.get('USDC')).toBe(1n);
    expect(result.value[0]?.balances.get('BTC')).toBe(-1n);
    expect(result.value[0]?.perps.get('BTC-PERP')?.size).toBe(1n);
  });

  it('drops zero balances and zero-size positions, and accepts accounts without balances or perps', () => {
    const result = parsePortfolios(
      [
        { id: 'a', balances: { USDC: '0', ETH: '-0.0' }, perps: [{ market: 'ETH-PERP', size: '0', entryPrice: '3000' }] },
        { id: 'b' },
      ],
      CONFIG,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.map((account) => [account.id, account.balances.size, account.perps.size])).toEqual([
      ['a', 0, 0],
      ['b', 0, 0],
    ]);
  });

  it('an empty list is no accounts', () => {
    expect(parsePortfolios([], CONFIG)).toEqual({ ok: true, value: [] });
  });
});

describe('parsePortfolios: rejected portfolios, with field and account', () => {
  it.each<[string, unknown, IssueSummary[]]>([
    ['unknown asset', [{ id: 'alice', balances: { DOGE: '1' } }], [{ field: '[0].balances.DOGE', account: 'alice' }]],
    [
      'unknown market',
      [{ id: 'alice', perps: [{ market: 'SOL-PERP', size: '1', entryPrice: '100' }] }],
      [{ field: '[0].perps[0].market', account: 'alice' }],
    ],
    [
      'an asset id used as a market',
      [{ id: 'alice', perps: [{ market: 'ETH', size: '1', entryPrice: '100' }] }],
      [{ field: '[0].perps[0].market', account: 'alice' }],
    ],
    ['more decimals than USDC has (6)', [{ id: 'alice', balances: { USDC: '1.0000001' } }], [{ field: '[0].balances.USDC', account: 'alice' }]],
    ['more decimals than BTC has (8)', [{ id: 'bob', balances: { BTC: '-0.000000001' } }], [{ field: '[0].balances.BTC', account: 'bob' }]],
    [
      'perp size with more decimals than its base (BTC, 8)',
      [{ id: 'bob', perps: [{ market: 'BTC-PERP', size: '0.123456789', entryPrice: '64000' }] }],
      [{ field: '[0].perps[0].size', account: 'bob' }],
    ],
    ['exponent notation', [{ id: 'alice', balances: { USDC: '1e5' } }], [{ field: '[0].balances.USDC', account: 'alice' }]],
    ['NaN', [{ id: 'alice', balances: { USDC: 'NaN' } }], [{ field: '[0].balances.USDC', account: 'alice' }]],
    ['JSON number amount', [{ id: 'alice', balances: { USDC: -1000 } }], [{ field: '[0].balances.USDC', account: 'alice' }]],
    [
      'zero entry price',
      [{ id: 'alice', perps: [{ market: 'ETH-PERP', size: '1', entryPrice: '0' }] }],
      [{ field: '[0].perps[0].entryPrice', account: 'alice' }],
    ],
    [
      'missing size',
      [{ id: 'alice', perps: [{ market: 'ETH-PERP', entryPrice: '3000' }] }],
      [{ field: '[0].perps[0].size', account: 'alice' }],
    ],
    [
      'unknown perp field',
      [{ id: 'alice', perps: [{ market: 'ETH-PERP', size: '1', entryPrice: '3000', leverage: '10' }] }],
      [{ field: '[0].perps[0].leverage', account: 'alice' }],
    ],
    ['unknown account field', [{ id: 'alice', owner: 'x' }], [{ field: '[0].owner', account: 'alice' }]],
    [
      'duplicate account id',
      [{ id: 'alice', balances: { USDC: '1' } }, { id: 'bob' }, { id: 'alice', balances: { ETH: '1' } }],
      [{ field: '[2].id', account: 'alice' }],
    ],
    [
      'second position in the same market',
      [
        {
          id: 'alice',
          perps: [
            { market: 'ETH-PERP', size: '1', entryPrice: '3000' },
            { market: 'ETH-PERP', size: '-1', entryPrice: '3100' },
          ],
        },
      ],
      [{ field: '[0].perps[1].market', account: 'alice' }],
    ],
    ['missing id', [{ balances: { USDC: '1' } }], [{ field: '[0].id', account: undefined }]],
    ['account not an object', ['alice'], [{ field: '[0]', account: undefined }]],
    ['balances not an object', [{ id: 'alice', balances: [] }], [{ field: '[0].balances', account: 'alice' }]],
    [
      'issues of several accounts, each with its own id',
      [
        { id: 'alice', balances: { DOGE: '1' } },
        { id: 'bob', balances: { USDC: '0.1234567' } },
        { id: 'carol', balances: { ETH: '1' } },
      ],
      [
        { field: '[0].balances.DOGE', account: 'alice' },
        { field: '[1].balances.USDC', account: 'bob' },
      ],
    ],
  ])('%s', (_name, json, expected) => {
    expect(issuesOf(json)).toEqual(expected);
  });

  it('rejects a root that is not an array', () => {
    expect(issuesOf({ id: 'alice' })).toEqual([{ field: '', account: undefined }]);
  });

  it('names the asset and its decimals in the message', () => {
    const result = parsePortfolios([{ id: 'alice', balances: { USDC: '1.0000001', DOGE: '1' } }], CONFIG);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toEqual([
      { field: '[0].balances.USDC', account: 'alice', message: expect.stringContaining('at most 6') },
      { field: '[0].balances.DOGE', account: 'alice', message: expect.stringContaining('unknown asset "DOGE"') },
    ]);
  });
});
