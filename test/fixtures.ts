/**
 * Small builders for hand-worked tests: configurations, prices and accounts written the
 * way a user writes them (decimal strings in whole units), read through the same parsers
 * the CLI uses, so a fixture can never hold a value the boundary would reject.
 */
import type { Account } from '../src/core/account.ts';
import { parseRiskConfig, type RiskConfig } from '../src/core/config.ts';
import { parseDecimal, WAD_DECIMALS } from '../src/core/fixed.ts';
import { parsePortfolios } from '../src/core/portfolio.ts';
import { parsePriceBook, type PriceBook } from '../src/core/prices.ts';

/** A decimal string as a wad (1e18 = 1.0). */
export function wad(text: string): bigint {
  return units(text, WAD_DECIMALS);
}

/** A decimal string in whole units as base units of an asset with `decimals`. */
export function units(text: string, decimals: number): bigint {
  const parsed = parseDecimal(text, decimals);
  if (!parsed.ok) throw new Error(`fixture: ${parsed.error.message}`);
  return parsed.value;
}

export function riskConfig(json: unknown): RiskConfig {
  const parsed = parseRiskConfig(json);
  if (!parsed.ok) throw new Error(`fixture: invalid risk config: ${JSON.stringify(parsed.error)}`);
  return parsed.value;
}

export function priceBook(json: Record<string, string | { price: string; confidence?: string }>): PriceBook {
  const parsed = parsePriceBook(json);
  if (!parsed.ok) throw new Error(`fixture: invalid prices: ${JSON.stringify(parsed.error)}`);
  return parsed.value;
}

export interface PortfolioJson {
  readonly id: string;
  readonly balances?: Record<string, string>;
  readonly perps?: readonly { readonly market: string; readonly size: string; readonly entryPrice: string }[];
}

export function account(config: RiskConfig, json: PortfolioJson): Account {
  const parsed = parsePortfolios([json], config);
  if (!parsed.ok) throw new Error(`fixture: invalid portfolio: ${JSON.stringify(parsed.error)}`);
  const [only] = parsed.value;
  if (only === undefined) throw new Error('fixture: no account');
  return only;
}

/** examples/risk.json's USDC and ETH entries, which most test configurations share. */
export const USDC_ASSET_JSON = {
  id: 'USDC',
  decimals: 6,
  collateral: { initialWeight: '0.95', maintenanceWeight: '0.98' },
  liability: { initialWeight: '1.05', maintenanceWeight: '1.02' },
  liquidationPenalty: '0.02',
};

export const ETH_ASSET_JSON = {
  id: 'ETH',
  decimals: 18,
  collateral: { initialWeight: '0.80', maintenanceWeight: '0.85' },
  liability: { initialWeight: '1.10', maintenanceWeight: '1.05' },
  liquidationPenalty: '0.05',
};

/** The configuration of examples/risk.json (DESIGN.md's example, with USDC and BTC added). */
export const EXAMPLE_RISK_JSON = {
  quote: 'USDC',
  warningRatio: '1.1',
  assets: [
    USDC_ASSET_JSON,
    ETH_ASSET_JSON,
    {
      id: 'BTC',
      decimals: 8,
      collateral: { initialWeight: '0.80', maintenanceWeight: '0.85' },
      liability: { initialWeight: '1.10', maintenanceWeight: '1.05' },
      liquidationPenalty: '0.05',
    },
  ],
  markets: [
    { id: 'ETH-PERP', base: 'ETH', initialMarginFraction: '0.10', maintenanceMarginFraction: '0.05' },
    {
      id: 'BTC-PERP',
      base: 'BTC',
      initialMarginFraction: '0.10',
      maintenanceMarginFraction: '0.05',
      sizeScalingFactor: '0.0002',
    },
  ],
} as const;

export const EXAMPLE_CONFIG: RiskConfig = riskConfig(EXAMPLE_RISK_JSON);
