/**
 * Liquidations in plain words, for the account holder: what the engine saw, what it took,
 * why that amount, what it cost, and where the account stands now. Rendered from the events
 * alone, so any past liquidation can be explained from the log.
 */
import type { RiskConfig } from '../config.ts';
import { abs, divDown, formatDecimal, pow10, WAD, WAD_DECIMALS } from '../fixed.ts';
import type { LiquidationCompleted, LiquidationStepEventType } from '../ledger/events.ts';
import type { LiquidationStep, StepRule } from './steps.ts';

const RULE_WORDS: Readonly<Record<StepRule, string>> = {
  MINIMAL_TO_TARGET: 'the least that restores the target',
  WHOLE_DUST: 'all of it, as what was left would have been dust',
  MAX_SHARE_CAP: 'the most one liquidation may take',
  CASCADE_CAP: 'the most the market’s liquidation window still allowed',
  KEEPER_LIMIT: 'the most the liquidator asked for',
  ALL_AVAILABLE: 'all there was',
  BANKRUPTCY_CLOSE: 'all of it, the account being bankrupt',
  INSURANCE_COVER: 'what the insurance fund could pay',
  DELEVERAGE: 'closed against a profitable opposite position at the bankruptcy price',
  SOCIALIZE: 'written off against lenders, nothing else being left to cover it',
};

export function explainLiquidation(
  steps: readonly LiquidationStepEventType[],
  completed: LiquidationCompleted,
  config: RiskConfig,
): string {
  const sentences: string[] = [];
  const prices = completed.prices.map((price) => `${price.asset} at ${formatUsdPlain(price.priceWad)}`).join(', ');
  sentences.push(
    `Maintenance health fell to ${formatUsd(completed.healthBefore.maintenance.healthUsd)} with ${prices || 'the prices then'}`,
  );
  for (const event of steps) sentences.push(describeStep(event.step, config));
  for (const limit of completed.untouched) sentences.push(`${limit.key} untouched: ${RULE_WORDS[limit.rule]}`);
  if (completed.penaltiesUsd > 0n) sentences.push(`penalties ${formatUsdPlain(completed.penaltiesUsd)} USD`);
  if (completed.badDebtUsd > 0n) sentences.push(`bad debt ${formatUsdPlain(completed.badDebtUsd)} USD`);
  const level = completed.target.kind === 'initial' ? completed.healthAfter.initial : completed.healthAfter.maintenance;
  const targetWords =
    completed.target.kind === 'initial'
      ? 'initial health'
      : `maintenance ratio target ${formatDecimal(completed.target.ratioWad, WAD_DECIMALS)}`;
  sentences.push(
    completed.bankrupt
      ? `the account was bankrupt and has been closed out; health is now ${formatUsd(level.healthUsd)}`
      : `${targetWords} is now ${formatUsd(level.healthUsd)}${completed.targetReached ? '' : ' (target not yet reached)'}`,
  );
  return `${sentences.join('; ')}.`;
}

function describeStep(step: LiquidationStep, config: RiskConfig): string {
  const why = RULE_WORDS[step.rule];
  switch (step.kind) {
    case 'perp': {
      const base = config.markets.get(step.market)?.base ?? step.market;
      const side = step.size > 0n ? 'long' : 'short';
      return (
        `${formatAmountShort(abs(step.size), base, config)} ${base} of the ${side} ${step.market} position passed to the liquidator at ` +
        `${formatUsdPlain(step.priceWad)} (${why})` +
        (step.penalty > 0n ? `, fee ${formatAmountShort(step.penalty, config.quote, config)} ${config.quote}` : '')
      );
    }
    case 'swap':
      return step.repaid === 0n
        ? `${formatAmountShort(step.seized, step.collateralAsset, config)} ${step.collateralAsset} left over went to the insurance fund`
        : `${formatAmountShort(step.seized, step.collateralAsset, config)} ${step.collateralAsset} was sold to repay ` +
            `${formatAmountShort(step.repaid, step.debtAsset, config)} ${step.debtAsset} (${why}` +
            (step.penaltyWad > 0n ? `; penalty ${formatDecimal(step.penaltyWad * 100n, WAD_DECIMALS)}%)` : ')');
    case 'insurance':
      return `the insurance fund paid ${formatAmountShort(step.amount, step.asset, config)} ${step.asset}`;
    case 'deleverage':
      return `${formatAmountShort(abs(step.size), config.markets.get(step.market)?.base ?? '', config)} of ${step.market} ${why} ${formatUsdPlain(step.priceWad)} (counterparty ${step.counterparty})`;
    case 'socialize':
      return `${formatAmountShort(step.amount, step.asset, config)} ${step.asset} ${why}`;
    case 'auction':
      return (
        `${formatAmountShort(step.lot, step.collateralAsset, config)} ${step.collateralAsset} went to a Dutch auction starting at ` +
        `${formatUsdPlain(step.startPriceWad)} to raise ${formatAmountShort(step.tab, step.debtAsset, config)} ${step.debtAsset}; ` +
        'what the auction does not need comes back'
      );
  }
}

/** USD with a sign and two decimals, cut toward zero (display only): "−120.40 USD", "+42.10 USD". */
export function formatUsd(valueWad: bigint): string {
  const sign = valueWad < 0n ? '−' : '+';
  return `${sign}${formatUsdPlain(abs(valueWad))} USD`;
}

function formatUsdPlain(valueWad: bigint): string {
  const cents = divDown(abs(valueWad) * 100n, WAD);
  const whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${valueWad < 0n ? '-' : ''}${whole}.${(cents % 100n).toString().padStart(2, '0')}`;
}

/** An amount in whole units, at most six fractional digits (display only). */
function formatAmountShort(amount: bigint, asset: string, config: RiskConfig): string {
  const decimals = config.assets.get(asset)?.decimals ?? 0;
  const shown = smallerOf(decimals, 6);
  const truncated = divDown(amount, pow10(decimals - shown));
  return formatDecimal(truncated, shown);
}

function smallerOf(a: number, b: number): number {
  return a < b ? a : b;
}
