/**
 * Reads `portfolios.json`: accounts given as balances in whole units (negative = borrowed)
 * and perp positions, checked against the risk configuration.
 */
import type { Account, PerpPosition } from './account.ts';
import type { RiskConfig } from './config.ts';
import { WAD_DECIMALS } from './fixed.ts';
import { InputReader, join, type InputIssue } from './input.ts';
import { err, ok, type Result } from './result.ts';

export interface PortfolioIssue extends InputIssue {
  /** The account the issue concerns, when its id could be read. */
  readonly account?: string;
}

const ACCOUNT_FIELDS = ['id', 'balances', 'perps'];
const PERP_FIELDS = ['market', 'size', 'entryPrice'];
const POSITIVE = { min: 0n, minExclusive: true, text: '(0, ∞)' };

export function parsePortfolios(json: unknown, config: RiskConfig): Result<readonly Account[], readonly PortfolioIssue[]> {
  const issues: PortfolioIssue[] = [];
  const top = new InputReader();
  const list = top.array(json, '');
  if (list === undefined) return err(top.issues);
  const accounts: Account[] = [];
  const seen = new Set<string>();
  list.forEach((value, index) => {
    const reader = new InputReader();
    const account = readAccount(reader, value, join('', index), config);
    const id = account?.id ?? idOf(value);
    if (account !== undefined && seen.has(account.id)) reader.fail(join(join('', index), 'id'), `duplicate account id "${account.id}"`);
    for (const issue of reader.issues) issues.push(id === undefined ? issue : { ...issue, account: id });
    if (account !== undefined && reader.issues.length === 0) {
      seen.add(account.id);
      accounts.push(account);
    }
  });
  return issues.length > 0 ? err(issues) : ok(accounts);
}

function readAccount(reader: InputReader, value: unknown, field: string, config: RiskConfig): Account | undefined {
  const record = reader.object(value, field, ACCOUNT_FIELDS);
  if (record === undefined) return undefined;
  const id = reader.required(record, 'id', field, (v) => reader.identifier(v, join(field, 'id')));
  const balances = new Map<string, bigint>();
  const balanceRecord = reader.optional(record, 'balances', (v) => reader.dictionary(v, join(field, 'balances'))) ?? {};
  for (const [asset, amountText] of Object.entries(balanceRecord)) {
    const amountField = join(join(field, 'balances'), asset);
    const assetConfig = config.assets.get(asset);
    if (assetConfig === undefined) {
      reader.fail(amountField, `unknown asset "${asset}"`);
      continue;
    }
    const amount = reader.decimal(amountText, amountField, assetConfig.decimals);
    if (amount !== undefined && amount !== 0n) balances.set(asset, amount);
  }
  const perps = new Map<string, PerpPosition>();
  const perpList = reader.optional(record, 'perps', (v) => reader.array(v, join(field, 'perps'))) ?? [];
  perpList.forEach((perpValue, index) => {
    const position = readPerp(reader, perpValue, join(join(field, 'perps'), index), config);
    if (position === undefined) return;
    if (perps.has(position.market)) {
      reader.fail(join(join(join(field, 'perps'), index), 'market'), `second position in market "${position.market}"`);
    } else if (position.size !== 0n) {
      perps.set(position.market, position);
    }
  });
  return id === undefined ? undefined : { id, balances, perps };
}

function readPerp(reader: InputReader, value: unknown, field: string, config: RiskConfig): PerpPosition | undefined {
  const record = reader.object(value, field, PERP_FIELDS);
  if (record === undefined) return undefined;
  const marketId = reader.required(record, 'market', field, (v) => reader.identifier(v, join(field, 'market')));
  if (marketId === undefined) return undefined;
  const market = config.markets.get(marketId);
  const base = market && config.assets.get(market.base);
  if (base === undefined) return reader.fail(join(field, 'market'), `unknown market "${marketId}"`);
  const size = reader.required(record, 'size', field, (v) => reader.decimal(v, join(field, 'size'), base.decimals));
  const entryPriceWad = reader.required(record, 'entryPrice', field, (v) =>
    reader.decimalWithin(v, join(field, 'entryPrice'), WAD_DECIMALS, POSITIVE),
  );
  if (size === undefined || entryPriceWad === undefined) return undefined;
  return { market: marketId, size, entryPriceWad };
}

function idOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' ? id.slice(0, 64) : undefined;
}
