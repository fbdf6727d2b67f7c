/**
 * The load side of the HTTP benchmark, run as its own process so that autocannon shares
 * neither the service's event loop nor its CPU accounting:
 * `node --import tsx bench/http-load.ts '<LoadJob as JSON>'` runs autocannon on loopback and
 * prints one line, the `LoadResult` as JSON.
 */
import autocannon, { type AutocannonRequest } from 'autocannon';

export interface LoadJob {
  readonly url: string;
  readonly apiKey: string;
  readonly accounts: readonly string[];
  readonly kind: 'reads' | 'deposits';
  readonly durationS: number;
  readonly connections: number;
  /** Prefix of the idempotency keys, unique per run: every deposit is a new command. */
  readonly runId: string;
}

export interface LoadResult {
  readonly requestsPerSec: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly durationS: number;
  /** Requests built (setupRequest calls): an upper bound on those the service received. */
  readonly built: number;
}

async function run(job: LoadJob): Promise<LoadResult> {
  let counter = 0;
  const nextAccount = (): string => job.accounts[counter % job.accounts.length] ?? '';
  const authorization = `Bearer ${job.apiKey}`;
  const request =
    job.kind === 'reads'
      ? {
          method: 'GET',
          headers: { authorization },
          setupRequest: (raw: AutocannonRequest): AutocannonRequest => {
            raw.path = `/v1/accounts/${nextAccount()}`;
            counter++;
            return raw;
          },
        }
      : {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          setupRequest: (raw: AutocannonRequest): AutocannonRequest => {
            raw.path = `/v1/accounts/${nextAccount()}/deposits`;
            raw.body = JSON.stringify({ asset: 'USDC', amount: '1', idempotencyKey: `${job.runId}:${counter}` });
            counter++;
            return raw;
          },
        };
  const result = await autocannon({ url: job.url, connections: job.connections, duration: job.durationS, requests: [request] });
  return {
    requestsPerSec: result['2xx'] / result.duration,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    built: counter,
  };
}

const jobJson = process.argv[2];
if (jobJson !== undefined) {
  const result = await run(JSON.parse(jobJson) as LoadJob);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
