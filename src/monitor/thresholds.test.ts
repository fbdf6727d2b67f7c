import { describe, expect, it } from 'vitest';
import { WAD } from '../core/fixed.ts';
import type { LevelHealth } from '../core/health.ts';
import { EXAMPLE_CONFIG, wad } from '../../test/fixtures.ts';
import {
  compareUnderwater,
  exactMask,
  LIQUIDATABLE,
  LIQUIDATION_BAND,
  thresholdsFor,
  WARNING,
  WARNING_BAND,
  type Sides,
} from './thresholds.ts';

/** A maintenance level with these sides (health and ratio are not read by the mask). */
function level(assets: string, liabilities: string): LevelHealth {
  const assetsUsd = wad(assets);
  const liabilitiesUsd = wad(liabilities);
  return { assetsUsd, liabilitiesUsd, healthUsd: assetsUsd - liabilitiesUsd, ratioWad: null };
}

function sides(assets: string, liabilities: string): Sides {
  return { maintenanceAssetsUsd: wad(assets), maintenanceLiabilitiesUsd: wad(liabilities) };
}

describe('thresholds: zone masks by cross-multiplication', () => {
  // warningRatio 1.1 (examples/risk.json), band 0.02: thresholds 1, 1.02, 1.1, 1.12.
  const thresholds = thresholdsFor(EXAMPLE_CONFIG, wad('0.02'));

  it('are 1, 1 + band, warningRatio, warningRatio + band', () => {
    expect(thresholds).toEqual([WAD, wad('1.02'), wad('1.1'), wad('1.12')]);
  });

  it.each([
    ['0.5', '1', LIQUIDATABLE | LIQUIDATION_BAND | WARNING | WARNING_BAND],
    ['0.999999999999999999', '1', LIQUIDATABLE | LIQUIDATION_BAND | WARNING | WARNING_BAND],
    ['1', '1', LIQUIDATION_BAND | WARNING | WARNING_BAND],
    ['1.02', '1', WARNING | WARNING_BAND],
    ['1.099999999999999999', '1', WARNING | WARNING_BAND],
    ['1.1', '1', WARNING_BAND],
    ['1.12', '1', 0],
    ['5', '0', 0],
    ['0', '0', 0],
  ])('assets %s over liabilities %s', (assets, liabilities, mask) => {
    expect(exactMask(level(assets, liabilities), thresholds)).toBe(mask);
  });

  it('decides at one wei of the ratio without dividing', () => {
    // 11 / 10 is exactly the warning ratio; one wei of assets less is below it.
    expect(exactMask(level('11', '10'), thresholds) & WARNING).toBe(0);
    expect(exactMask({ ...level('11', '10'), assetsUsd: wad('11') - 1n }, thresholds) & WARNING).toBe(WARNING);
  });

  it('refuses a negative band', () => {
    expect(() => thresholdsFor(EXAMPLE_CONFIG, -1n)).toThrow(RangeError);
  });
});

describe('thresholds: how far under water', () => {
  it('orders by ratio, not by health in USD', () => {
    // A: 90 / 100 (ratio 0.9, health −10); B: 9,500 / 10,000 (ratio 0.95, health −500).
    expect(compareUnderwater(sides('90', '100'), sides('9500', '10000'))).toBe(-1);
    expect(compareUnderwater(sides('9500', '10000'), sides('90', '100'))).toBe(1);
  });

  it('tells apart ratios that round to the same 18 decimals', () => {
    // 1/3 and 333333333333333333/1e18 floor to the same wad; cross-multiplication does not.
    const third = { maintenanceAssetsUsd: 1n, maintenanceLiabilitiesUsd: 3n };
    const floored = { maintenanceAssetsUsd: 333_333_333_333_333_333n, maintenanceLiabilitiesUsd: WAD };
    expect(compareUnderwater(floored, third)).toBe(-1);
  });

  it('equal ratios compare equal; no liabilities (unbounded) comes last', () => {
    expect(compareUnderwater(sides('1', '2'), sides('50', '100'))).toBe(0);
    expect(compareUnderwater(sides('1000', '0'), sides('1', '2'))).toBe(1);
    expect(compareUnderwater(sides('1', '2'), sides('1000', '0'))).toBe(-1);
    expect(compareUnderwater(sides('1', '0'), sides('1000', '0'))).toBe(0);
  });
});
