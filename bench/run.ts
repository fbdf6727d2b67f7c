/**
 * Runs every benchmark in bench/ in turn: `npm run bench`.
 * To add one, import its function and append it to BENCHMARKS.
 */
import { benchEvaluate } from './evaluate.ts';

interface Benchmark {
  readonly name: string;
  readonly run: () => Promise<Record<string, number>>;
}

const BENCHMARKS: readonly Benchmark[] = [{ name: 'evaluate', run: benchEvaluate }];

for (const benchmark of BENCHMARKS) {
  console.log(`== ${benchmark.name}`);
  await benchmark.run();
}
