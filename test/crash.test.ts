/**
 * Crash safety (issue 6): a real `collateral serve` process under a storm of concurrent
 * deposits and withdrawals is killed with SIGKILL at a seeded random moment, restarted on the
 * same SQLite file, and checked; again and again.
 *
 * After every kill, before the restart:
 * - `collateral replay` exits 0 with `match: true`; loading the log the way the service does
 *   (snapshot + tail, in this process) reaches the same state hash, and every invariant of
 *   invariants.ts holds over the whole state (INV-1 per asset all balances sum to zero, INV-7
 *   totals match balances), with the ledger not halted.
 * - Every acknowledged command (a 2xx answer) is in the durable log; every refused one (4xx)
 *   is not; each command's events are one contiguous run under its key, starting with the
 *   command itself (as sent) and ending with the event that completes it (nothing half-applied).
 * - A reference model (the amounts of the storm's commands found in the log, added up per
 *   account) equals the recovered balances.
 * After the restart: the server answers each account with the model's balances, and a retry
 * of every acknowledged command of the storm (same key and body) is answered `replayed: true`
 * with the first answer's events. At the end the server is stopped cleanly (SIGTERM, exit 0)
 * and two consecutive replays print the same state hash.
 *
 * CRASH_ITERATIONS (default 20), CRASH_SEED (default 20240601), CRASH_CONCURRENCY (default 48).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRiskConfig, type RiskConfig } from '../src/core/config.ts';
import { formatDecimal, parseDecimal } from '../src/core/fixed.ts';
import { checkInvariants } from '../src/core/ledger/invariants.ts';
import { formatIssues } from '../src/core/input.ts';
import { fromRecord } from '../src/store/record.ts';
import { loadLedger } from '../src/store/recover.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import { ETH_ASSET_JSON, USDC_ASSET_JSON } from './fixtures.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(REPO, 'bin', 'collateral.js');

const ITERATIONS = positiveInteger(process.env.CRASH_ITERATIONS, 20);
const SEED = positiveInteger(process.env.CRASH_SEED, 20_240_601);
const CONCURRENCY = positiveInteger(process.env.CRASH_CONCURRENCY, 48);
/** The kill comes this long after the storm starts, uniformly at random. */
const KILL_DELAY_MS_MAX = 600;
const ACCOUNT_COUNT = 12;
const START_TIMEOUT_MS = 30_000;
const REPLAY_PAGE_ROWS = 1_000;
/** Small, so that kills land before, during and after snapshots, and restarts load them. */
const SNAPSHOT_EVERY_EVENTS = 400;

const RISK_CONFIG = {
  quote: 'USDC',
  assets: [
    USDC_ASSET_JSON,
    ETH_ASSET_JSON,
  ],
};

/** The event that completes each kind of storm command: it is its command's last event. */
const COMPLETING_EVENT = { deposit: 'CollateralDeposited', withdraw: 'CollateralWithdrawn' } as const;

type StormKind = keyof typeof COMPLETING_EVENT;

interface SentCommand {
  readonly key: string;
  readonly kind: StormKind;
  readonly account: string;
  readonly asset: 'USDC' | 'ETH';
  /** Base units of the asset. */
  readonly amount: bigint;
  readonly iteration: number;
}

type Answer =
  | { readonly kind: 'acknowledged'; readonly events: readonly EventRef[] }
  | { readonly kind: 'refused'; readonly status: number; readonly code: string }
  /** No answer (the process died) or a 5xx: the command may or may not have been kept. */
  | { readonly kind: 'unknown'; readonly why: string };

interface EventRef {
  readonly seq: number;
  readonly type: string;
  readonly hash: string;
}

interface Keys {
  readonly venue: string;
  readonly oracle: string;
}

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
}

/** One command as found in the log: its run of events under its key. */
interface LoggedCommand {
  readonly key: string;
  readonly firstSeq: number;
  lastSeq: number;
  readonly types: string[];
  readonly command: Record<string, unknown> | undefined;
}

describe('crash safety: SIGKILL under a storm of commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'collateral-crash-'));
  const dbPath = join(dir, 'crash.db');
  const configPath = join(dir, 'risk.json');
  writeFileSync(configPath, JSON.stringify(RISK_CONFIG, null, 2));
  const config = parseConfig(RISK_CONFIG);
  let server: Server | null = null;

  afterAll(async () => {
    if (server !== null && server.child.exitCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    `keeps every acknowledged command and nothing half-applied across ${ITERATIONS} kills`,
    async () => {
      // Two streams, so that the kill delays depend on the seed alone, not on how many
      // commands the storms happened to send.
      const killRandom = mulberry32(SEED);
      const commandRandom = mulberry32(SEED ^ 0x9e3779b9);
      console.log(`crash: seed ${SEED}, ${ITERATIONS} kills, ${CONCURRENCY} concurrent clients, db ${dbPath}`);
      const keys: Keys = {
        venue: await createKey(dbPath, 'venue'),
        oracle: await createKey(dbPath, 'oracle'),
      };
      const sent = new Map<string, SentCommand>();
      const answers = new Map<string, Answer>();
      const accounts = Array.from({ length: ACCOUNT_COUNT }, (_, index) => `crash-${index}`);

      server = await startServer(configPath, dbPath);
      await pushPrice(server.url, keys);

      for (let iteration = 1; iteration <= ITERATIONS; iteration++) {
        const killDelayMs = Math.floor(killRandom() * KILL_DELAY_MS_MAX);
        const storm = startStorm({ server, keys, accounts, iteration, random: commandRandom, sent, answers });
        await delay(killDelayMs);
        storm.stop();
        server.child.kill('SIGKILL');
        const signal = await server.exited;
        await storm.done;
        expect(signal, 'the server died of SIGKILL').toBe(null);

        const recovered = await checkDurableLog({ dbPath, sent, answers });
        server = await startServer(configPath, dbPath);
        await pushPrice(server.url, keys);
        await checkServerAgrees(server.url, keys, recovered.balances, config);
        const retried = await retryAcknowledged(server.url, keys, sent, answers, iteration);

        const counts = countAnswers(sent, answers, iteration);
        console.log(
          `crash ${String(iteration).padStart(2)}: killed after ${String(killDelayMs).padStart(3)} ms; ` +
            `acknowledged ${counts.acknowledged}, refused ${counts.refused}, unanswered ${counts.unknown} ` +
            `(${recovered.unansweredKept.get(iteration) ?? 0} of them kept); recovered seq ${recovered.seq}` +
            `${recovered.snapshotSeq > 0 ? ` (snapshot at ${recovered.snapshotSeq})` : ''}; ` +
            `${retried} retries answered replayed`,
        );
      }

      // A clean stop, then two replays of the same log: the same state hash.
      server.child.kill('SIGTERM');
      expect(await exitCode(server), 'a clean shutdown exits 0').toBe(0);
      const first = await replay(dbPath);
      const second = await replay(dbPath);
      expect(second.stateHash).toBe(first.stateHash);
      expect(second.seq).toBe(first.seq);
      const total = countAnswers(sent, answers, undefined);
      expect(total.acknowledged, 'the storms got commands through').toBeGreaterThan(0);
      console.log(
        `crash: ${total.acknowledged} acknowledged commands kept over ${ITERATIONS} kills; ` +
          `final seq ${first.seq}, state hash ${first.stateHash}`,
      );
    },
    Math.max(180_000, ITERATIONS * 15_000),
  );
});

// ── The storm ────────────────────────────────────────────────────────────────────────────

interface StormOptions {
  readonly server: Server;
  readonly keys: Keys;
  readonly accounts: readonly string[];
  readonly iteration: number;
  readonly random: () => number;
  readonly sent: Map<string, SentCommand>;
  readonly answers: Map<string, Answer>;
}

interface Storm {
  /** No new commands after this; those in flight get their answers or errors. */
  stop(): void;
  readonly done: Promise<void>;
}

/** CONCURRENCY clients sending deposits and withdrawals until stopped. */
function startStorm(options: StormOptions): Storm {
  let counter = 0;
  let stopped = false;
  const client = async (): Promise<void> => {
    while (!stopped) {
      const command = nextCommand(options, counter++);
      options.sent.set(command.key, command);
      const answer = await send(options.server.url, options.keys.venue, command);
      options.answers.set(command.key, answer);
    }
  };
  const done = Promise.all(Array.from({ length: CONCURRENCY }, client)).then(() => undefined);
  return {
    stop: () => {
      stopped = true;
    },
    done,
  };
}

/** Deposits of USDC and ETH, and USDC withdrawals (some borrow against ETH, some are refused). */
function nextCommand(options: StormOptions, counter: number): SentCommand {
  const { random, accounts, iteration } = options;
  const account = accounts[Math.floor(random() * accounts.length)] ?? 'crash-0';
  const key = `crash:${iteration}:${counter}`;
  const roll = random();
  if (roll < 0.55) {
    return { key, kind: 'deposit', account, asset: 'USDC', amount: BigInt(1 + Math.floor(random() * 1_000_000_000)), iteration };
  }
  if (roll < 0.7) {
    const milliEth = BigInt(1 + Math.floor(random() * 1_000));
    return { key, kind: 'deposit', account, asset: 'ETH', amount: milliEth * 10n ** 15n, iteration };
  }
  return { key, kind: 'withdraw', account, asset: 'USDC', amount: BigInt(1 + Math.floor(random() * 500_000_000)), iteration };
}

function commandPath(command: SentCommand): string {
  return `/v1/accounts/${command.account}/${command.kind === 'deposit' ? 'deposits' : 'withdrawals'}`;
}

function commandBody(command: SentCommand): Record<string, string> {
  const decimals = command.asset === 'USDC' ? USDC_ASSET_JSON.decimals : ETH_ASSET_JSON.decimals;
  return { asset: command.asset, amount: formatDecimal(command.amount, decimals), idempotencyKey: command.key };
}

async function send(url: string, key: string, command: SentCommand): Promise<Answer> {
  let response: Response;
  let body: unknown;
  try {
    response = await fetch(`${url}${commandPath(command)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(commandBody(command)),
    });
    body = await response.json();
  } catch (error) {
    return { kind: 'unknown', why: describeNetworkError(error) };
  }
  if (response.status >= 200 && response.status < 300) {
    const answer = body as { replayed: boolean; events: EventRef[] };
    if (answer.replayed) throw new Error(`first send of ${command.key} was answered replayed`);
    return { kind: 'acknowledged', events: answer.events };
  }
  const code = (body as { error?: { code?: string } }).error?.code ?? '?';
  if (response.status >= 400 && response.status < 500) return { kind: 'refused', status: response.status, code };
  return { kind: 'unknown', why: `${response.status} ${code}` };
}

// ── After a kill: the durable log ────────────────────────────────────────────────────────

interface Recovered {
  readonly seq: number;
  readonly snapshotSeq: number;
  /** Per account, per asset: base units, from the model (equal to the recovered ledger's). */
  readonly balances: ReadonlyMap<string, ReadonlyMap<string, bigint>>;
  /** Per iteration: commands that got no answer but are in the log. */
  readonly unansweredKept: ReadonlyMap<number, number>;
}

async function checkDurableLog(options: {
  dbPath: string;
  sent: ReadonlyMap<string, SentCommand>;
  answers: ReadonlyMap<string, Answer>;
}): Promise<Recovered> {
  const { dbPath, sent, answers } = options;
  const replayed = await replay(dbPath);

  const store = await SqliteStore.open({ path: dbPath });
  try {
    // Loaded the way the service loads it (latest snapshot + tail): the same state as a full replay.
    const loaded = await loadLedger(store, parseConfig, RISK_CONFIG, { warn: (message) => console.warn(message) });
    expect(loaded.droppedEvents, 'a SQLite commit is atomic: no torn tail').toBe(0);
    expect(loaded.ledger.headSeq).toBe(replayed.seq);
    expect(loaded.ledger.stateHash(), 'snapshot + tail reaches the full replay\'s state hash').toBe(replayed.stateHash);
    expect(loaded.ledger.state.halted).toBe(null);
    expect(checkInvariants(loaded.ledger.state)).toEqual([]);

    const logged = await scanLog(store);
    const model = new Map<string, Map<string, bigint>>();
    const unansweredKept = new Map<number, number>();
    for (const [key, command] of sent) {
      const answer = answers.get(key);
      const entry = logged.get(key);
      if (answer?.kind === 'acknowledged') {
        expect(entry, `acknowledged command ${key} is in the log`).toBeDefined();
        expect(entry?.firstSeq, `${key} is where its answer said`).toBe(answer.events[0]?.seq);
        expect(entry?.lastSeq).toBe(answer.events[answer.events.length - 1]?.seq);
      }
      if (answer?.kind === 'refused') expect(entry, `refused command ${key} (${answer.code}) is not in the log`).toBeUndefined();
      if (entry === undefined) continue;
      if (answer?.kind !== 'acknowledged') unansweredKept.set(command.iteration, (unansweredKept.get(command.iteration) ?? 0) + 1);
      checkComplete(entry, command);
      const balances = model.get(command.account) ?? new Map<string, bigint>();
      const delta = command.kind === 'deposit' ? command.amount : -command.amount;
      balances.set(command.asset, (balances.get(command.asset) ?? 0n) + delta);
      model.set(command.account, balances);
    }
    for (const [account, balances] of model) {
      const record = loaded.ledger.state.accounts.get(account);
      expect(record, `account ${account} was recovered`).toBeDefined();
      const recovered = new Map([...(record?.balances ?? [])].map(([asset, balance]) => [asset, balance.amount]));
      expect(recovered, `balances of ${account} (no interest configured: exact)`).toEqual(withoutZeros(balances));
    }
    return { seq: replayed.seq, snapshotSeq: loaded.snapshotSeq, balances: model, unansweredKept };
  } finally {
    await store.close();
  }
}

/** Every command in the log as one contiguous run of events under its key. */
async function scanLog(store: SqliteStore): Promise<Map<string, LoggedCommand>> {
  const logged = new Map<string, LoggedCommand>();
  let current: LoggedCommand | null = null;
  let after = 0;
  for (;;) {
    const records = await store.read(after, REPLAY_PAGE_ROWS);
    if (records.length === 0) return logged;
    for (const record of records) {
      const sealed = fromRecord(record);
      if (current !== null && current.key === sealed.key) {
        expect(sealed.command, `only the first event of ${sealed.key} carries the command`).toBeUndefined();
        current.lastSeq = sealed.seq;
        current.types.push(sealed.event.type);
        continue;
      }
      expect(logged.has(sealed.key), `the events of ${sealed.key} are contiguous (seen again at ${sealed.seq})`).toBe(false);
      expect(sealed.command, `event ${sealed.seq}, the first of ${sealed.key}, carries its command`).toBeDefined();
      current = {
        key: sealed.key,
        firstSeq: sealed.seq,
        lastSeq: sealed.seq,
        types: [sealed.event.type],
        command: sealed.command as unknown as Record<string, unknown>,
      };
      logged.set(sealed.key, current);
    }
    after = records[records.length - 1]?.seq ?? after;
  }
}

/** The logged command is the one sent, and its events are the whole of it. */
function checkComplete(entry: LoggedCommand, command: SentCommand): void {
  expect(entry.command).toMatchObject({ kind: command.kind, account: command.account, asset: command.asset, amount: command.amount });
  const completing = COMPLETING_EVENT[command.kind];
  expect(entry.types[entry.types.length - 1], `${command.key} ends with ${completing}`).toBe(completing);
  expect(entry.types.filter((type) => type === completing), `${command.key} applied once`).toHaveLength(1);
  const leading = entry.types.slice(0, -1);
  const allowed = command.kind === 'deposit' ? ['AccountOpened', 'AccountSettled'] : ['AccountSettled'];
  for (const type of leading) expect(allowed, `${command.key}: unexpected ${type}`).toContain(type);
}

// ── After the restart: the server ────────────────────────────────────────────────────────

async function checkServerAgrees(
  url: string,
  keys: Keys,
  model: ReadonlyMap<string, ReadonlyMap<string, bigint>>,
  config: RiskConfig,
): Promise<void> {
  for (const [account, balances] of model) {
    const response = await fetch(`${url}/v1/accounts/${account}`, { headers: { authorization: `Bearer ${keys.venue}` } });
    expect(response.status, `GET /v1/accounts/${account}`).toBe(200);
    const body = (await response.json()) as { balances: Record<string, string> };
    const served = new Map(
      Object.entries(body.balances).map(([asset, text]) => {
        const parsed = parseDecimal(text, config.assets.get(asset)?.decimals ?? 0);
        if (!parsed.ok) throw new Error(`server balance ${asset} ${text} does not parse`);
        return [asset, parsed.value];
      }),
    );
    expect(served, `the restarted server's balances of ${account}`).toEqual(withoutZeros(balances));
  }
}

/** Retries this iteration's acknowledged commands: each is answered from its first outcome. */
async function retryAcknowledged(
  url: string,
  keys: Keys,
  sent: ReadonlyMap<string, SentCommand>,
  answers: ReadonlyMap<string, Answer>,
  iteration: number,
): Promise<number> {
  const retries: Promise<void>[] = [];
  for (const command of sent.values()) {
    const answer = answers.get(command.key);
    if (command.iteration !== iteration || answer?.kind !== 'acknowledged') continue;
    retries.push(
      (async () => {
        const response = await fetch(`${url}${commandPath(command)}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${keys.venue}`, 'content-type': 'application/json' },
          body: JSON.stringify(commandBody(command)),
        });
        const body = (await response.json()) as { replayed?: boolean; events?: EventRef[] };
        expect(response.status, `retry of ${command.key}: ${JSON.stringify(body)}`).toBe(200);
        expect(body.replayed, `retry of ${command.key} is replayed`).toBe(true);
        expect(body.events, `retry of ${command.key} has the first answer's events`).toEqual(answer.events);
      })(),
    );
    if (retries.length >= CONCURRENCY) await Promise.all(retries.splice(0));
  }
  await Promise.all(retries);
  return countAnswers(sent, answers, iteration).acknowledged;
}

// ── Processes ────────────────────────────────────────────────────────────────────────────

async function createKey(dbPath: string, role: string): Promise<string> {
  const result = await runCli(['keys', 'create', '--role', role, '--db', dbPath]);
  expect(result.code, result.stderr).toBe(0);
  const key = result.stdout.split('\n')[0] ?? '';
  expect(key).toMatch(/^ce_/);
  return key;
}

async function replay(dbPath: string): Promise<{ seq: number; stateHash: string }> {
  const result = await runCli(['replay', '--db', dbPath]);
  expect(result.code, `collateral replay: ${result.stderr}`).toBe(0);
  const report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { seq: number; stateHash: string; match: boolean };
  expect(report.match).toBe(true);
  return { seq: report.seq, stateHash: report.stateHash };
}

function runCli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `collateral serve` on port 0; resolves with its URL once it prints it. */
function startServer(configPath: string, dbPath: string): Promise<Server> {
  const args = [BIN, 'serve', '--config', configPath, '--db', dbPath, '--port', '0', '--no-auto-liquidate', '--rate-limit', '100000000', '--snapshot-every', String(SNAPSHOT_EVERY_EVENTS)];
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`collateral serve did not start in ${START_TIMEOUT_MS} ms: ${stdout}${stderr}`));
    }, START_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /serving on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      resolve({ child, url: match[1], exited, stderr: () => stderr });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`collateral serve exited (${code}) before serving: ${stdout}${stderr}`));
    });
  });
}

async function exitCode(server: Server): Promise<number | null> {
  const code = await server.exited;
  if (code !== 0) console.error(server.stderr());
  return code;
}

/** Both assets need a price: an account that cannot be valued is answered 409 PRICE_UNAVAILABLE. */
async function pushPrice(url: string, keys: Keys): Promise<void> {
  const response = await fetch(`${url}/v1/prices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys.oracle}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      prices: [
        { asset: 'ETH', price: '3000', timestamp: Date.now() },
        { asset: 'USDC', price: '1', timestamp: Date.now() },
      ],
    }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

// ── Small helpers ────────────────────────────────────────────────────────────────────────

function countAnswers(
  sent: ReadonlyMap<string, SentCommand>,
  answers: ReadonlyMap<string, Answer>,
  iteration: number | undefined,
): { acknowledged: number; refused: number; unknown: number } {
  const counts = { acknowledged: 0, refused: 0, unknown: 0 };
  for (const command of sent.values()) {
    if (iteration !== undefined && command.iteration !== iteration) continue;
    counts[answers.get(command.key)?.kind ?? 'unknown']++;
  }
  return counts;
}

function withoutZeros(balances: ReadonlyMap<string, bigint>): Map<string, bigint> {
  return new Map([...balances].filter(([, amount]) => amount !== 0n));
}

function parseConfig(json: unknown): RiskConfig {
  const parsed = parseRiskConfig(json);
  if (!parsed.ok) throw new Error(formatIssues(parsed.error));
  return parsed.value;
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as Error).message;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A small seeded PRNG (mulberry32): the same seed, the same kill delays. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function positiveInteger(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`expected a positive integer, got "${text}"`);
  return value;
}
