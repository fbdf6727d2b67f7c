/**
 * Debounced alerts: each account has an alert level (none, warning, liquidatable) that moves
 * with hysteresis, so that a price hovering at a threshold raises one alert per real crossing,
 * not one per tick.
 *
 *   none → warning        when the ratio falls below warningRatio           ('warning')
 *   any  → liquidatable   when maintenance health falls below zero          ('liquidatable')
 *   liquidatable → warning only once the ratio is back to 1 + band or more   (no alert)
 *   warning | liquidatable → none once the ratio is back to warningRatio + band or more ('recovered')
 *
 * Between a threshold and threshold + band the level stays where it was: an account that
 * dips under the warning ratio and comes back by less than the band gets no 'recovered' and
 * no second 'warning'; one that flickers around zero health gets one 'liquidatable'. The
 * account's status flags (`warning`, `liquidatable`) are not debounced: they are always the
 * core's exact answer. Only exact zone masks (thresholds.ts) are fed in here.
 */
import { LIQUIDATABLE, LIQUIDATION_BAND, WARNING, WARNING_BAND } from './thresholds.ts';

export type AlertKind = 'warning' | 'liquidatable' | 'recovered';

export const LEVEL_NONE = 0;
export const LEVEL_WARNING = 1;
export const LEVEL_LIQUIDATABLE = 2;
export type AlertLevel = typeof LEVEL_NONE | typeof LEVEL_WARNING | typeof LEVEL_LIQUIDATABLE;

export interface AlertStep {
  readonly level: AlertLevel;
  readonly kind: AlertKind | null;
}

/** The level after an exact zone mask, and the alert that the move raises, if any. */
export function nextAlert(level: AlertLevel, mask: number): AlertStep {
  if ((mask & LIQUIDATABLE) !== 0) return { level: LEVEL_LIQUIDATABLE, kind: level === LEVEL_LIQUIDATABLE ? null : 'liquidatable' };
  if (level === LEVEL_LIQUIDATABLE && (mask & LIQUIDATION_BAND) !== 0) return { level, kind: null };
  if ((mask & WARNING) !== 0) return { level: LEVEL_WARNING, kind: level === LEVEL_NONE ? 'warning' : null };
  if (level !== LEVEL_NONE && (mask & WARNING_BAND) !== 0) return { level: LEVEL_WARNING, kind: null };
  return { level: LEVEL_NONE, kind: level === LEVEL_NONE ? null : 'recovered' };
}

/**
 * The mask bits that `nextAlert` and the status flags read at a level: only these must be
 * decided (by the screen or exactly) to know that nothing changes.
 */
export function relevantBits(level: AlertLevel): number {
  if (level === LEVEL_NONE) return LIQUIDATABLE | WARNING;
  if (level === LEVEL_WARNING) return LIQUIDATABLE | WARNING | WARNING_BAND;
  return LIQUIDATABLE | LIQUIDATION_BAND | WARNING | WARNING_BAND;
}
