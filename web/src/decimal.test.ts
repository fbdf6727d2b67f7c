import { describe, expect, it } from 'vitest';
import { amount, canonical, compactUsd, difference, fixed, isPositiveDecimal, movedBy, parseWad, percentChange, price, ratio, usd } from './decimal.ts';

describe('display of decimal strings (no floats)', () => {
  it('parses canonical decimals to 18 decimals and refuses anything else', () => {
    expect(parseWad('1.5')).toBe(1_500_000_000_000_000_000n);
    expect(parseWad('-0.000000000000000001')).toBe(-1n);
    expect(parseWad('0.0000000000000000019')).toBe(1n);
    for (const text of ['', '1e5', '+1', '01', '1.', 'NaN', ' 1']) expect(parseWad(text)).toBeNull();
  });

  it('rounds half away from zero to the digits shown, with separators', () => {
    expect(fixed('1234567.125', 2)).toBe('1,234,567.13');
    expect(fixed('-1234567.125', 2)).toBe('−1,234,567.13');
    expect(fixed('0.004', 2)).toBe('0.00');
    expect(fixed('-0.004', 2, { sign: true })).toBe('0.00');
    expect(fixed('12.5', 0, { sign: true })).toBe('+13');
    expect(fixed(null, 2)).toBe('—');
    // Past what a float can hold exactly.
    expect(fixed('123456789012345678901234.555555555555555555', 2)).toBe('123,456,789,012,345,678,901,234.56');
  });

  it('writes dollars, short dollars, prices, amounts and ratios', () => {
    expect(usd('-3.1')).toBe('−$3.10');
    expect(usd('2674.6', 2, { sign: true })).toBe('+$2,674.60');
    expect(compactUsd('510049880.632482205758000000')).toBe('$510.05M');
    expect(compactUsd('-2500')).toBe('−$2.50k');
    expect(compactUsd('999.99')).toBe('$999.99');
    expect(price('58233.675')).toBe('58,233.68');
    expect(price('145.93504')).toBe('145.9350');
    expect(price('0.99955704')).toBe('0.999557');
    expect(amount('-23855.780032')).toBe('−23,855.780032');
    expect(amount('1.123456789')).toBe('1.12345679');
    expect(ratio(null)).toBe('∞');
    expect(ratio('1.756168213324817315')).toBe('1.756');
  });

  it('moves a price by whole percents exactly, as a canonical decimal the API accepts', () => {
    expect(movedBy('3045.5876', -40)).toBe('1827.35256');
    expect(movedBy('0.1', 10)).toBe('0.11');
    expect(isPositiveDecimal(movedBy('58233.675', -50))).toBe(true);
    expect(isPositiveDecimal('0')).toBe(false);
    expect(isPositiveDecimal('0.5')).toBe(true);
    expect(isPositiveDecimal('-1')).toBe(false);
    expect(canonical(-1_500_000_000_000_000_000n)).toBe('-1.5');
    expect(difference('1', '2.5')).toBe('-1.5');
  });

  it('gives percent changes to two decimals', () => {
    expect(percentChange('3045.5876', '2450.457060872149638154')).toBe('−19.54 %');
    expect(percentChange('100', '101')).toBe('+1.00 %');
    expect(percentChange('0', '1')).toBe('—');
  });
});
