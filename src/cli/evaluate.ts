/**
 * `collateral evaluate --config risk.json --portfolios portfolios.json --prices prices.json`:
 * values each account at the prices as given (no oracle guards; a perp's mark is its base
 * asset's price) and prints a JSON array. Invalid input prints nothing on stdout.
 */
import { parseRiskConfig } from '../core/config.ts';
import { explainAccount } from '../core/health.ts';
import { liquidationPrices } from '../core/liquidation-price.ts';
import { parsePortfolios } from '../core/portfolio.ts';
import { presentAccountRisk } from '../core/present.ts';
import { parsePriceBook } from '../core/prices.ts';
import { CliError, inputError, readFlags, readJsonFile } from './io.ts';

export async function evaluateCommand(args: readonly string[]): Promise<number> {
  const flags = readFlags(args, ['config', 'portfolios', 'prices'], ['config', 'portfolios', 'prices']);
  const configPath = flags.config as string;
  const portfoliosPath = flags.portfolios as string;
  const pricesPath = flags.prices as string;

  const config = parseRiskConfig(await readJsonFile(configPath));
  if (!config.ok) throw inputError(configPath, config.error);
  const prices = parsePriceBook(await readJsonFile(pricesPath));
  if (!prices.ok) throw inputError(pricesPath, prices.error);
  const accounts = parsePortfolios(await readJsonFile(portfoliosPath), config.value);
  if (!accounts.ok) {
    throw new CliError(
      accounts.error
        .map((issue) => {
          const where = issue.account === undefined ? '' : `account "${issue.account}": `;
          return `${portfoliosPath}: ${where}${issue.field}: ${issue.message}`;
        })
        .join('\n'),
    );
  }

  const results = accounts.value.map((account) => {
    const health = explainAccount(account, prices.value, config.value);
    if (!health.ok) {
      const problem = health.error;
      const message =
        problem.code === 'PRICE_UNAVAILABLE'
          ? `${pricesPath}: account "${account.id}": no price for asset "${problem.asset}"`
          : `${portfoliosPath}: account "${account.id}": ${problem.code}`;
      throw new CliError(message);
    }
    const liquidation = liquidationPrices(account, prices.value, config.value);
    return presentAccountRisk(account, health.value, liquidation, config.value);
  });
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  return 0;
}
