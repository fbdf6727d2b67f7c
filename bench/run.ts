/**
 * Runs every benchmark in bench/ in turn: `npm run bench`, or some of them by name:
 * `npm run bench -- http`. To add one, import its function and append it to BENCHMARKS.
 */
import { benchEvaluate } from './evaluate.ts';
import { benchHttp } from './http.ts';
import { benchLedger } from './ledger.ts';
import { benchSimulate } from './simulate.ts';

interface Benchmark {
  readonly name: string;
  readonly run: () => Promise<Record<string, number>>;
}

const BENCHMARKS: readonly Benchmark[] = [
  { name: 'evaluate', run: benchEvaluate },
  { name: 'ledger', run: benchLedger },
  { name: 'http', run: benchHttp },
  { name: 'simulate', run: benchSimulate },
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !BENCHMARKS.some((benchmark) => benchmark.name === name));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((benchmark) => benchmark.name).join(', ')}`);
  process.exit(2);
}
for (const benchmark of BENCHMARKS) {
  if (wanted.length > 0 && !wanted.includes(benchmark.name)) continue;
  console.log(`== ${benchmark.name}`);
  await benchmark.run();
}
