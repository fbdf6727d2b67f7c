/**
 * Exact evaluation throughput: `evaluateAccount` over a seeded population of 100,000
 * accounts on one core. Warms up, then times several passes and reports the median pass,
 * the peak RSS of the process and the largest heap seen after a pass.
 *
 * Also prints a digest of every formatted result (totals and breakdown), so a speed-up can
 * be checked to leave the outputs unchanged: the digest must not move unless the change
 * means to move results and says so. (Rounding each total once instead of summing rounded
 * contributions could have moved it; on this population it does not, as every term here
 * is a whole number of wei.)
 */
import { createHash } from 'node:crypto';
import { evaluateAccount, explainAccount } from '../src/core/health.ts';
import { presentAccountRisk } from '../src/core/present.ts';
import { buildPopulation, type Population } from './population.ts';

const ACCOUNT_COUNT = 100_000;
const WARMUP_PASSES = 2;
const TIMED_PASSES = 7;
const NS_PER_S = 1e9;
const BYTES_PER_MB = 1024 * 1024;
const KB_PER_MB = 1024;

export async function benchEvaluate(): Promise<Record<string, number>> {
  const population = buildPopulation(ACCOUNT_COUNT);
  for (let pass = 0; pass < WARMUP_PASSES; pass++) evaluatePass(population);

  const passNs: number[] = [];
  let heapUsedBytesMax = 0;
  for (let pass = 0; pass < TIMED_PASSES; pass++) {
    collectGarbage();
    const startNs = process.hrtime.bigint();
    evaluatePass(population);
    passNs.push(Number(process.hrtime.bigint() - startNs));
    heapUsedBytesMax = Math.max(heapUsedBytesMax, process.memoryUsage().heapUsed);
  }

  const medianNs = median(passNs);
  const figures = {
    accounts: ACCOUNT_COUNT,
    accountsPerSec: Math.round((ACCOUNT_COUNT * NS_PER_S) / medianNs),
    nsPerAccount: Math.round(medianNs / ACCOUNT_COUNT),
    peakRssMb: round1(process.resourceUsage().maxRSS / KB_PER_MB),
    heapUsedMb: round1(heapUsedBytesMax / BYTES_PER_MB),
  };
  const passes = `median of ${TIMED_PASSES} passes over ${ACCOUNT_COUNT.toLocaleString('en-US')} accounts`;
  console.log(`evaluate: ${figures.accountsPerSec.toLocaleString('en-US')} accounts/s (${passes})`);
  console.log(`evaluate: ${figures.nsPerAccount} ns per account`);
  console.log(`evaluate: peak RSS ${figures.peakRssMb} MB`);
  console.log(`evaluate: heap used ${figures.heapUsedMb} MB (largest after a pass)`);
  console.log(`evaluate: results digest sha256 ${digestEvaluations(population)}`);
  const fields = Object.entries(figures).map(([name, value]) => `${name}=${value}`);
  console.log(`evaluate: ${fields.join(' ')}`);
  return figures;
}

/**
 * Evaluates every account once. Returns how many are liquidatable, so the work has an
 * observable result and cannot be optimised away.
 */
function evaluatePass(population: Population): number {
  let liquidatable = 0;
  for (const account of population.accounts) {
    const health = evaluateAccount(account, population.prices, population.config);
    if (!health.ok) throw new Error(`benchmark account ${account.id} failed: ${health.error.code}`);
    if (health.value.liquidatable) liquidatable++;
  }
  return liquidatable;
}

/** sha256 over the public JSON of every account's result, in population order. */
export function digestEvaluations(population: Population): string {
  const hash = createHash('sha256');
  for (const account of population.accounts) {
    const health = explainAccount(account, population.prices, population.config);
    const presented = health.ok
      ? presentAccountRisk(account, health.value, null, population.config)
      : { id: account.id, error: health.error };
    hash.update(JSON.stringify(presented));
    hash.update('\n');
  }
  return hash.digest('hex');
}

/** Runs a full collection when node was started with --expose-gc; otherwise does nothing. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
