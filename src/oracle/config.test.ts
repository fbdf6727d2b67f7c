import { describe, expect, it } from 'vitest';
import { DEFAULT_GUARDS, parseOracleConfig, singleSourceConfig } from './config.ts';
import { checksumAddress, ed25519Publisher, eip191Publisher } from './signatures.ts';
import { testKey, wad } from './testing.ts';

const ASSETS = ['ETH', 'BTC', 'USDC'];
const ED = ed25519Publisher(testKey(1));
const ETH_ADDRESS = eip191Publisher(testKey(2));

function fieldsOf(json: unknown, assets: readonly string[] = ASSETS): string[] {
  const result = parseOracleConfig(json, assets);
  return result.ok ? [] : result.error.map((issue) => issue.field);
}

function parsed(json: unknown, assets: readonly string[] = ASSETS) {
  const result = parseOracleConfig(json, assets);
  if (!result.ok) throw new Error(JSON.stringify(result.error));
  return result.value;
}

describe('parseOracleConfig: accepted configurations', () => {
  it('no oracle section: every asset accepts a single source with the default guards', () => {
    const config = parsed(undefined);
    expect([...config.assets.keys()]).toEqual(ASSETS);
    expect(config.assets.get('ETH')).toEqual(singleSourceConfig('ETH'));
    expect(config.assets.get('ETH')?.sources).toEqual({ kind: 'single' });
    expect(config.assets.get('ETH')?.guards).toEqual(DEFAULT_GUARDS);
  });

  it('an empty object is the same as no section', () => {
    expect(parsed({})).toEqual(parsed(undefined));
  });

  it('reads every field of an asset', () => {
    const config = parsed({
      assets: [
        {
          id: 'ETH',
          sources: ['binance', 'coinbase', 'kraken'],
          quorum: 3,
          maxAgeMs: 30_000,
          maxFutureMs: 500,
          maxConfidenceRatio: '0.01',
          maxDeviationPerUpdate: '0.05',
          maxDeviationPerWindow: '0.2',
          windowMs: 600_000,
          recoveryUpdates: 5,
          stablePriceGrowthPerHour: '0.06',
          markHalfLifeMs: 120_000,
          publishers: { ed25519: [ED.toUpperCase()], eip191: [checksumAddress(ETH_ADDRESS)], threshold: 2 },
        },
      ],
    });
    expect(config.assets.get('ETH')).toEqual({
      asset: 'ETH',
      sources: { kind: 'listed', ids: ['binance', 'coinbase', 'kraken'], quorum: 3 },
      guards: {
        maxAgeMs: 30_000,
        maxFutureMs: 500,
        maxConfidenceRatioWad: wad('0.01'),
        maxDeviationPerUpdateWad: wad('0.05'),
        maxDeviationPerWindowWad: wad('0.2'),
        windowMs: 600_000,
        recoveryUpdates: 5,
        stablePriceGrowthPerHourWad: wad('0.06'),
        markHalfLifeMs: 120_000,
      },
      // keys normalised to lowercase
      attestation: { kind: 'required', ed25519: [ED], eip191: [ETH_ADDRESS], threshold: 2 },
    });
    // the assets it does not name keep the single-source default
    expect(config.assets.get('BTC')).toEqual(singleSourceConfig('BTC'));
  });

  it('quorum defaults to a majority of the sources', () => {
    const quorum = (sources: string[]) => {
      const source = parsed({ assets: [{ id: 'ETH', sources }] }).assets.get('ETH')?.sources;
      return source?.kind === 'listed' ? source.quorum : undefined;
    };
    expect(quorum(['a'])).toBe(1);
    expect(quorum(['a', 'b'])).toBe(2);
    expect(quorum(['a', 'b', 'c'])).toBe(2);
    expect(quorum(['a', 'b', 'c', 'd'])).toBe(3);
  });

  it('defaults apply to configured assets’ missing fields and to unconfigured assets', () => {
    const config = parsed({ defaults: { maxAgeMs: 5_000, recoveryUpdates: 7 }, assets: [{ id: 'ETH', sources: ['a'], maxAgeMs: 1_000 }] });
    expect(config.assets.get('ETH')?.guards).toMatchObject({ maxAgeMs: 1_000, recoveryUpdates: 7 });
    expect(config.assets.get('BTC')?.guards).toMatchObject({ maxAgeMs: 5_000, recoveryUpdates: 7 });
    expect(config.assets.get('BTC')?.guards.maxDeviationPerUpdateWad).toBe(DEFAULT_GUARDS.maxDeviationPerUpdateWad);
  });
});

describe('parseOracleConfig: rejected configurations, reported at the field', () => {
  const asset = (fields: Record<string, unknown>) => ({ assets: [{ id: 'ETH', sources: ['a', 'b'], ...fields }] });

  it.each([
    ['not an object', [], ['']],
    ['unknown top-level field', { asset: [] }, ['asset']],
    ['unknown asset field', asset({ maxAge: 1000 }), ['assets[0].maxAge']],
    ['unknown defaults field', { defaults: { quorum: 2 } }, ['defaults.quorum']],
    ['asset not in the risk configuration', { assets: [{ id: 'DOGE', sources: ['a'] }] }, ['assets[0].id']],
    ['duplicate asset', { assets: [{ id: 'ETH', sources: ['a'] }, { id: 'ETH', sources: ['b'] }] }, ['assets[1].id']],
    ['missing id', { assets: [{ sources: ['a'] }] }, ['assets[0].id']],
    ['missing sources', { assets: [{ id: 'ETH' }] }, ['assets[0].sources']],
    ['empty sources', asset({ sources: [] }), ['assets[0].sources']],
    ['duplicate source', asset({ sources: ['a', 'a'] }), ['assets[0].sources[1]']],
    ['invalid source id', asset({ sources: ['a b'] }), ['assets[0].sources[0]']],
    ['quorum above the source count', asset({ quorum: 3 }), ['assets[0].quorum']],
    ['quorum zero', asset({ quorum: 0 }), ['assets[0].quorum']],
    ['quorum as a string', asset({ quorum: '2' }), ['assets[0].quorum']],
    ['maxAgeMs zero', asset({ maxAgeMs: 0 }), ['assets[0].maxAgeMs']],
    ['maxAgeMs fractional', asset({ maxAgeMs: 1.5 }), ['assets[0].maxAgeMs']],
    ['maxFutureMs negative', asset({ maxFutureMs: -1 }), ['assets[0].maxFutureMs']],
    ['maxConfidenceRatio as a JSON number', asset({ maxConfidenceRatio: 0.02 }), ['assets[0].maxConfidenceRatio']],
    ['maxConfidenceRatio in exponent notation', asset({ maxConfidenceRatio: '2e-2' }), ['assets[0].maxConfidenceRatio']],
    ['maxConfidenceRatio zero', asset({ maxConfidenceRatio: '0' }), ['assets[0].maxConfidenceRatio']],
    ['maxConfidenceRatio above one', asset({ maxConfidenceRatio: '1.5' }), ['assets[0].maxConfidenceRatio']],
    ['maxDeviationPerUpdate zero', asset({ maxDeviationPerUpdate: '0' }), ['assets[0].maxDeviationPerUpdate']],
    ['window limit below the per-update limit', asset({ maxDeviationPerUpdate: '0.3', maxDeviationPerWindow: '0.2' }), ['assets[0].maxDeviationPerWindow']],
    ['windowMs zero', asset({ windowMs: 0 }), ['assets[0].windowMs']],
    ['recoveryUpdates zero', asset({ recoveryUpdates: 0 }), ['assets[0].recoveryUpdates']],
    ['stablePriceGrowthPerHour zero', asset({ stablePriceGrowthPerHour: '0' }), ['assets[0].stablePriceGrowthPerHour']],
    ['stablePriceGrowthPerHour NaN', asset({ stablePriceGrowthPerHour: 'NaN' }), ['assets[0].stablePriceGrowthPerHour']],
    ['markHalfLifeMs zero', asset({ markHalfLifeMs: 0 }), ['assets[0].markHalfLifeMs']],
    ['publishers without any key', asset({ publishers: { threshold: 1 } }), ['assets[0].publishers']],
    ['publishers without threshold', asset({ publishers: { ed25519: [ED] } }), ['assets[0].publishers.threshold']],
    ['threshold above the publisher count', asset({ publishers: { ed25519: [ED], threshold: 2 } }), ['assets[0].publishers.threshold']],
    ['ed25519 key too short', asset({ publishers: { ed25519: [ED.slice(2)], threshold: 1 } }), ['assets[0].publishers.ed25519[0]']],
    ['ed25519 key that is not a point', asset({ publishers: { ed25519: ['02'.repeat(32)], threshold: 1 } }), ['assets[0].publishers.ed25519[0]']],
    ['duplicate ed25519 key', asset({ publishers: { ed25519: [ED, ED.toUpperCase()], threshold: 1 } }), ['assets[0].publishers.ed25519[1]']],
    ['address too short', asset({ publishers: { eip191: ['0x1234'], threshold: 1 } }), ['assets[0].publishers.eip191[0]']],
    ['address without 0x', asset({ publishers: { eip191: [ETH_ADDRESS.slice(2)], threshold: 1 } }), ['assets[0].publishers.eip191[0]']],
    [
      'mixed-case address with a wrong checksum',
      asset({ publishers: { eip191: [checksumAddress(ETH_ADDRESS).replace(/[a-f]/, (c) => c.toUpperCase())], threshold: 1 } }),
      ['assets[0].publishers.eip191[0]'],
    ],
    ['unknown publishers field', asset({ publishers: { secp256k1: [], ed25519: [ED], threshold: 1 } }), ['assets[0].publishers.secp256k1']],
  ])('%s', (_name, json, fields) => {
    expect(fieldsOf(json)).toEqual(fields);
  });

  it('reports every problem at once', () => {
    expect(fieldsOf({ assets: [{ id: 'ETH', sources: [], maxAgeMs: 0 }, { id: 'DOGE', sources: ['a'] }] })).toEqual([
      'assets[0].sources',
      'assets[0].maxAgeMs',
      'assets[1].id',
    ]);
  });

  it('an all-lowercase or all-uppercase address needs no checksum', () => {
    expect(fieldsOf(asset({ publishers: { eip191: [ETH_ADDRESS], threshold: 1 } }))).toEqual([]);
    expect(fieldsOf(asset({ publishers: { eip191: [`0x${ETH_ADDRESS.slice(2).toUpperCase()}`], threshold: 1 } }))).toEqual([]);
  });
});
