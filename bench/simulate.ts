/**
 * Stress simulator throughput: Black Thursday (196 steps) over a seeded population, through
 * the real oracle, ledger and liquidations (`simulateScenario`). Reports the set-up and the
 * run separately, liquidations per second and accounts × steps screened per second.
 *
 * 10,000 accounts by default, so that `npm run bench` stays short; the benchmark is
 * 100,000 (SIM_BENCH_ACCOUNTS=100000, or `collateral simulate --scenario black-thursday-2020
 * --accounts 100000`; README, Stress simulator).
 */
import { simulateScenario } from '../src/sim/simulate.ts';

const ACCOUNTS = Number(process.env.SIM_BENCH_ACCOUNTS ?? '10000');
const NS_PER_MS = 1e6;

export async function benchSimulate(): Promise<Record<string, number>> {
  const cpuStart = process.cpuUsage();
  const startNs = process.hrtime.bigint();
  let setupMs = 0;
  const outcome = simulateScenario({
    scenario: 'black-thursday-2020',
    accounts: ACCOUNTS,
    seed: 1,
    onProgress: (progress) => {
      if (progress.frame === 1 && setupMs === 0) setupMs = Number(process.hrtime.bigint() - startNs) / NS_PER_MS;
    },
  });
  if (!outcome.ok) throw new Error('bench: the scenario did not load');
  const totalMs = Number(process.hrtime.bigint() - startNs) / NS_PER_MS;
  const cpu = process.cpuUsage(cpuStart);
  const { report, run } = outcome.value;
  const frames = report.timeline.length;
  const figures = {
    accounts: report.accounts,
    steps: frames,
    liquidations: report.totals.liquidations,
    totalMs: Math.round(totalMs),
    setupAndFirstStepMs: Math.round(setupMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    liquidationsPerSec: Math.round((report.totals.liquidations * 1000) / Math.max(totalMs - setupMs, 1)),
    accountStepsPerSec: Math.round((report.accounts * frames * 1000) / Math.max(totalMs - setupMs, 1)),
    exactEvaluations: run.diagnostics.exactEvaluations,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  console.log(figures);
  return figures;
}
