import { describe, expect, it } from 'vitest';
import { LEVEL_LIQUIDATABLE, LEVEL_NONE, LEVEL_WARNING, nextAlert, relevantBits, type AlertLevel } from './alerts.ts';
import { LIQUIDATABLE, LIQUIDATION_BAND, WARNING, WARNING_BAND } from './thresholds.ts';

/** Masks of a ratio in each zone (thresholds 1, 1 + band, W, W + band with 1 + band < W). */
const ZONE = {
  underwater: LIQUIDATABLE | LIQUIDATION_BAND | WARNING | WARNING_BAND,
  liquidationBand: LIQUIDATION_BAND | WARNING | WARNING_BAND,
  warning: WARNING | WARNING_BAND,
  warningBand: WARNING_BAND,
  healthy: 0,
} as const;

describe('alerts: levels with hysteresis', () => {
  it.each([
    [LEVEL_NONE, ZONE.healthy, LEVEL_NONE, null],
    [LEVEL_NONE, ZONE.warningBand, LEVEL_NONE, null],
    [LEVEL_NONE, ZONE.warning, LEVEL_WARNING, 'warning'],
    [LEVEL_NONE, ZONE.liquidationBand, LEVEL_WARNING, 'warning'],
    [LEVEL_NONE, ZONE.underwater, LEVEL_LIQUIDATABLE, 'liquidatable'],
    [LEVEL_WARNING, ZONE.warning, LEVEL_WARNING, null],
    [LEVEL_WARNING, ZONE.warningBand, LEVEL_WARNING, null],
    [LEVEL_WARNING, ZONE.healthy, LEVEL_NONE, 'recovered'],
    [LEVEL_WARNING, ZONE.underwater, LEVEL_LIQUIDATABLE, 'liquidatable'],
    [LEVEL_LIQUIDATABLE, ZONE.underwater, LEVEL_LIQUIDATABLE, null],
    [LEVEL_LIQUIDATABLE, ZONE.liquidationBand, LEVEL_LIQUIDATABLE, null],
    [LEVEL_LIQUIDATABLE, ZONE.warning, LEVEL_WARNING, null],
    [LEVEL_LIQUIDATABLE, ZONE.warningBand, LEVEL_WARNING, null],
    [LEVEL_LIQUIDATABLE, ZONE.healthy, LEVEL_NONE, 'recovered'],
  ] as const)('level %i in zone %i: level %i, alert %s', (level, mask, next, kind) => {
    expect(nextAlert(level, mask)).toEqual({ level: next, kind });
  });

  it('a ratio hovering at a threshold raises one alert per crossing of the whole band', () => {
    // Around the warning ratio, then around zero health, then back to healthy.
    const path = [
      ZONE.healthy, ZONE.warning, ZONE.warningBand, ZONE.warning, ZONE.warningBand, ZONE.warning,
      ZONE.underwater, ZONE.liquidationBand, ZONE.underwater, ZONE.liquidationBand, ZONE.underwater,
      ZONE.warning, ZONE.warningBand, ZONE.healthy, ZONE.warningBand, ZONE.healthy,
    ];
    let level: AlertLevel = LEVEL_NONE;
    const alerts: string[] = [];
    for (const mask of path) {
      const step = nextAlert(level, mask);
      level = step.level;
      if (step.kind !== null) alerts.push(step.kind);
    }
    expect(alerts).toEqual(['warning', 'liquidatable', 'recovered']);
  });

  it('reads only the relevant bits of each level', () => {
    for (const level of [LEVEL_NONE, LEVEL_WARNING, LEVEL_LIQUIDATABLE] as const) {
      const bits = relevantBits(level);
      for (let mask = 0; mask < 16; mask++) {
        // Flipping an irrelevant bit never changes the step (masks of real ratios or not).
        for (let bit = 0; bit < 4; bit++) {
          if ((bits & (1 << bit)) !== 0) continue;
          expect(nextAlert(level, mask ^ (1 << bit))).toEqual(nextAlert(level, mask));
        }
      }
      expect(bits & (LIQUIDATABLE | WARNING)).toBe(LIQUIDATABLE | WARNING);
    }
  });
});
