/**
 * The ledger's log: the hash chain (INV-8), replay from empty and snapshot plus tail (INV-5),
 * and the one codec between bigint values and canonical JSON text.
 */
import { describe, expect, it } from 'vitest';
import {
  accrue,
  configCommand,
  deposit,
  funding,
  LEDGER_RISK_JSON,
  parseConfig,
  price,
  STANDARD_PRICES,
  trade,
  transfer,
  withdraw,
} from '../../../test/ledger-given.ts';
import { decodeCanonical, encodeCanonical } from './codec.ts';
import type { Command } from './commands.ts';
import { GENESIS_HASH } from './hash.ts';
import { checkInvariants } from './invariants.ts';
import { eventHash, Ledger, LedgerIntegrityError, type SealedEvent } from './ledger.ts';

const T0_MS = 1_735_689_600_000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The standard configuration with ETH's initial collateral weight lowered to 0.75. */
const STRICTER_RISK_JSON = (() => {
  const json = structuredClone(LEDGER_RISK_JSON);
  const eth = json.assets[1];
  if (eth?.collateral === undefined) throw new Error('ETH has no collateral section');
  eth.collateral.initialWeight = '0.75';
  return json;
})();

/**
 * A history touching every command kind and every event type: account openings, deposits,
 * a borrow, interest over 30 days, trades with fees on two markets, funding both ways, a
 * transfer that settles both accounts, a configuration change and a closing trade.
 */
const HEAD: readonly Command[] = [
  ...STANDARD_PRICES,
  deposit('lender', 'USDC', '100000'),
  deposit('alice', 'USDC', '10000', { owner: 'alice' }),
  deposit('alice-sub', 'ETH', '2', { owner: 'alice' }),
  deposit('bob', 'USDC', '20000'),
  accrue(T0_MS),
  withdraw('alice-sub', 'USDC', '1000'),
  trade({ market: 'ETH-PERP', price: '3000', size: '2', buyer: 'alice', seller: 'bob', buyerFeeRate: '0.001', sellerFeeRate: '0.0005' }),
  trade({ market: 'BTC-PERP', price: '60000', size: '0.1', buyer: 'alice', seller: 'bob' }),
];
const TAIL: readonly Command[] = [
  price('ETH', '3100', '0.5'),
  funding('ETH-PERP', '0.0001'),
  funding('BTC-PERP', '-0.0002'),
  accrue(T0_MS + 30 * DAY_MS),
  transfer('alice-sub', 'alice', 'USDC', '500'),
  configCommand(STRICTER_RISK_JSON),
  trade({ market: 'ETH-PERP', price: '3100', size: '1', buyer: 'bob', seller: 'alice', sellerFeeRate: '0.001' }),
  deposit('alice', 'USDC', '1'),
  deposit('bob', 'USDC', '1'),
];

function freshLedger(): Ledger {
  return Ledger.create(parseConfig(LEDGER_RISK_JSON), LEDGER_RISK_JSON);
}

/** Executes every command (each must be accepted) and returns the sealed events in order. */
function run(ledger: Ledger, commands: readonly Command[]): SealedEvent[] {
  const sealed: SealedEvent[] = [];
  for (const command of commands) {
    const result = ledger.execute(command);
    if (!result.ok) throw new Error(`${command.kind} ${command.idempotencyKey} refused: ${encodeCanonical(result.error)}`);
    sealed.push(...result.value.events);
  }
  return sealed;
}

function replay(events: readonly SealedEvent[], into: Ledger = freshLedger()): Ledger {
  for (const event of events) into.apply(event);
  return into;
}

describe('the hash chain (INV-8)', () => {
  it("numbers events from 1 and chains each one's prevHash to the previous hash, from the genesis hash", () => {
    const ledger = freshLedger();
    const events = run(ledger, [...HEAD, ...TAIL]);
    expect(new Set(events.map((sealed) => sealed.event.type))).toEqual(
      new Set([
        'PriceUpdated',
        'AccountOpened',
        'CollateralDeposited',
        'CollateralWithdrawn',
        'InterestAccrued',
        'TradeFilled',
        'FundingUpdated',
        'AccountSettled',
        'Transferred',
        'ConfigUpdated',
      ]),
    );
    events.forEach((sealed, index) => {
      expect(sealed.seq).toBe(index + 1);
      expect(sealed.prevHash).toBe(index === 0 ? GENESIS_HASH : events[index - 1]?.hash);
      expect(sealed.hash).toBe(eventHash(sealed));
      expect(sealed.hash).toMatch(/^[0-9a-f]{64}$/);
    });
    expect(ledger.headSeq).toBe(events.length);
    expect(ledger.headHash).toBe(events.at(-1)?.hash);
  });

  it('carries the command on the first event of its batch only, and its key on every event', () => {
    const ledger = freshLedger();
    const command = deposit('alice', 'USDC', '10', { key: 'open-alice' });
    const [opened, deposited] = run(ledger, [command]);
    expect(opened).toMatchObject({ key: 'open-alice', command, event: { type: 'AccountOpened' } });
    expect(deposited).toMatchObject({ key: 'open-alice', event: { type: 'CollateralDeposited' } });
    expect(deposited?.command).toBeUndefined();
  });

  it('refuses an event whose content was changed: Ledger.apply throws LedgerIntegrityError and applies nothing', () => {
    const events = run(freshLedger(), [...HEAD, ...TAIL]);
    const index = events.findIndex((sealed) => sealed.event.type === 'CollateralWithdrawn');
    const original = events[index]!;
    if (original.event.type !== 'CollateralWithdrawn') throw new Error('unreachable');
    const tampered: SealedEvent = { ...original, event: { ...original.event, amount: original.event.amount + 1n } };

    const replaying = replay(events.slice(0, index));
    const before = replaying.stateHash();
    expect(() => replaying.apply(tampered)).toThrow(LedgerIntegrityError);
    expect(() => replaying.apply(tampered)).toThrow(`event ${original.seq} does not match the hash chain`);
    expect(replaying.stateHash()).toBe(before);
    expect(replaying.headSeq).toBe(original.seq - 1);
    // The genuine event still applies.
    replaying.apply(original);
    expect(replaying.headSeq).toBe(original.seq);
  });

  it.each([
    ['its key', (sealed: SealedEvent): SealedEvent => ({ ...sealed, key: 'forged' })],
    ['its prevHash', (sealed: SealedEvent): SealedEvent => ({ ...sealed, prevHash: GENESIS_HASH })],
    ['its hash', (sealed: SealedEvent): SealedEvent => ({ ...sealed, hash: 'f'.repeat(64) })],
    [
      'the command it carries',
      (sealed: SealedEvent): SealedEvent =>
        sealed.command?.kind === 'deposit' ? { ...sealed, command: { ...sealed.command, amount: 1n } } : sealed,
    ],
  ])('refuses an event with %s changed', (_name, tamper) => {
    const events = run(freshLedger(), [...HEAD]);
    // The first event of the first deposit's batch: it carries the deposit command.
    const index = events.findIndex((sealed) => sealed.command?.kind === 'deposit');
    const replaying = replay(events.slice(0, index));
    const tampered = tamper(events[index]!);
    expect(tampered).not.toEqual(events[index]);
    expect(() => replaying.apply(tampered)).toThrow(LedgerIntegrityError);
  });

  it('re-hashing a tampered event does not help: the next event no longer chains onto it', () => {
    const events = run(freshLedger(), [...HEAD]);
    const index = events.findIndex((sealed) => sealed.event.type === 'CollateralDeposited');
    const original = events[index]!;
    if (original.event.type !== 'CollateralDeposited') throw new Error('unreachable');
    const changed = { ...original, event: { ...original.event, amount: original.event.amount * 1000n } };
    const rehashed: SealedEvent = { ...changed, hash: eventHash(changed) };

    const replaying = replay(events.slice(0, index));
    replaying.apply(rehashed); // a forger can seal one event…
    expect(() => replaying.apply(events[index + 1]!)).toThrow(LedgerIntegrityError); // …but not its successor
  });

  it('refuses events out of sequence: a gap, a repeat, a start past 1', () => {
    const events = run(freshLedger(), [...HEAD]);
    const [first, second, third] = events as [SealedEvent, SealedEvent, SealedEvent];

    const gap = replay([first]);
    expect(() => gap.apply(third)).toThrow(LedgerIntegrityError);
    expect(() => gap.apply(third)).toThrow('event 3 out of sequence, expected 2');

    const repeat = replay([first, second]);
    expect(() => repeat.apply(second)).toThrow(LedgerIntegrityError);

    expect(() => freshLedger().apply(second)).toThrow('event 2 out of sequence, expected 1');
  });
});

describe('replay (INV-5)', () => {
  it('applying every sealed event to a fresh ledger reaches the same state hash, head and balances', () => {
    const live = freshLedger();
    const events = run(live, [...HEAD, ...TAIL]);
    const replayed = replay(events);
    expect(replayed.stateHash()).toBe(live.stateHash());
    expect(replayed.headSeq).toBe(live.headSeq);
    expect(replayed.headHash).toBe(live.headHash);
    expect(replayed.state.configJson).toEqual(STRICTER_RISK_JSON);
    expect(checkInvariants(replayed.state)).toEqual([]);
    expect(checkInvariants(live.state)).toEqual([]);
  });

  it('the state hash moves with every accepted command', () => {
    const ledger = freshLedger();
    const seen = new Set([ledger.stateHash()]);
    for (const command of [...HEAD, ...TAIL]) {
      run(ledger, [command]);
      seen.add(ledger.stateHash());
    }
    expect(seen.size).toBe(HEAD.length + TAIL.length + 1);
  });

  it('a replayed ledger answers retries of the commands it replayed', () => {
    const live = freshLedger();
    const events = run(live, [...HEAD]);
    const replayed = replay(events);
    const command = HEAD.at(-1)!;
    const retry = replayed.execute(command);
    const first = events.filter((sealed) => sealed.key === command.idempotencyKey);
    expect(retry).toEqual({ ok: true, value: { replayed: true, events: first, firstSeq: first[0]!.seq, lastSeq: first.at(-1)!.seq } });
    expect(replayed.headSeq).toBe(live.headSeq);
  });
});

describe('snapshots (INV-5)', () => {
  it('a snapshot plus the tail reaches the same state hash as a full replay and as the live ledger', () => {
    const live = freshLedger();
    const head = run(live, HEAD);
    const text = live.snapshot();
    const tail = run(live, TAIL);

    const restored = replay(tail, Ledger.fromSnapshot(text, parseConfig));
    const full = replay([...head, ...tail]);
    expect(restored.stateHash()).toBe(full.stateHash());
    expect(restored.stateHash()).toBe(live.stateHash());
    expect(restored.headSeq).toBe(live.headSeq);
    expect(restored.headHash).toBe(live.headHash);
  });

  it('a restored ledger starts where the snapshot was taken and refuses an event that does not chain on', () => {
    const live = freshLedger();
    const head = run(live, HEAD);
    const restored = Ledger.fromSnapshot(live.snapshot(), parseConfig);
    expect(restored.headSeq).toBe(head.length);
    expect(restored.headHash).toBe(head.at(-1)?.hash);
    expect(restored.stateHash()).toBe(live.stateHash());
    expect(() => restored.apply(head.at(-1)!)).toThrow(LedgerIntegrityError);
  });

  it('is canonical text: restoring and snapshotting again gives the same text', () => {
    const live = freshLedger();
    run(live, [...HEAD, ...TAIL]);
    const text = live.snapshot();
    expect(Ledger.fromSnapshot(text, parseConfig).snapshot()).toBe(text);
  });

  it('keeps the idempotency keys: a retry after a restore is a replay, another payload a conflict', () => {
    const live = freshLedger();
    run(live, HEAD);
    const command = withdraw('alice-sub', 'USDC', '100', 'borrow-after-snapshot');
    const first = run(live, [command]);
    const restored = Ledger.fromSnapshot(live.snapshot(), parseConfig);
    // The snapshot keeps each key's command and where its events are, not the events: the
    // restored ledger names them in the log (the service reads them back, engine.ts).
    const range = { firstSeq: first[0]!.seq, lastSeq: first.at(-1)!.seq };
    expect(restored.execute({ ...command })).toEqual({ ok: true, value: { replayed: true, events: [], ...range } });
    expect(live.execute({ ...command })).toEqual({ ok: true, value: { replayed: true, events: first, ...range } });
    expect(restored.execute({ ...command, amount: command.amount + 1n })).toEqual({
      ok: false,
      error: { code: 'IDEMPOTENCY_CONFLICT', idempotencyKey: 'borrow-after-snapshot', field: 'amount' },
    });
  });

  it('keeps the events of the latest outcomes only; older retries are still replays, naming their events in the log', () => {
    const ledger = Ledger.create(parseConfig(LEDGER_RISK_JSON), LEDGER_RISK_JSON, { recentOutcomes: 2 });
    const [oldest, middle, newest] = [deposit('a', 'USDC', '1', { key: 'k1' }), deposit('a', 'USDC', '2', { key: 'k2' }), deposit('a', 'USDC', '3', { key: 'k3' })];
    const events = [oldest, middle, newest].map((command) => run(ledger, [command]));
    const hash = ledger.stateHash();
    expect(ledger.execute(oldest)).toEqual({ ok: true, value: { replayed: true, events: [], firstSeq: events[0]![0]!.seq, lastSeq: events[0]!.at(-1)!.seq } });
    expect(ledger.execute(newest)).toMatchObject({ ok: true, value: { replayed: true, events: events[2] } });
    expect(ledger.execute({ ...oldest, amount: 5n })).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_CONFLICT', field: 'amount' } });
    expect(ledger.stateHash()).toBe(hash);
  });

  it('loads a version 1 snapshot, which kept every event of every key', () => {
    const live = freshLedger();
    const head = run(live, HEAD);
    const current = decodeCanonical(live.snapshot()) as { state: unknown; seq: number; hash: string };
    const byKey = new Map<string, { command: Command; events: SealedEvent[] }>();
    for (const sealed of head) {
      if (sealed.command !== undefined) byKey.set(sealed.key, { command: sealed.command, events: [sealed] });
      else byKey.get(sealed.key)?.events.push(sealed);
    }
    const version1 = encodeCanonical({ version: 1, seq: current.seq, hash: current.hash, state: current.state, idempotency: byKey });
    const restored = Ledger.fromSnapshot(version1, parseConfig);
    expect(restored.stateHash()).toBe(live.stateHash());
    expect(restored.snapshot()).toBe(live.snapshot());
  });

  it('a restored ledger decides a command into the same sealed events as the live ledger', () => {
    // alice opens ETH-PERP, then BTC-PERP; funding moves both markets; then a deposit settles both.
    // The live ledger and one restored from its snapshot have the same state hash, so they must
    // decide the same command identically (same events, same hashes).
    // Fails today: AccountSettled lists funding (and interest) items in the iteration order of the
    // account's perps (balances) Map. The live ledger keeps insertion order (ETH-PERP, BTC-PERP);
    // Ledger.fromSnapshot rebuilds the Maps from the snapshot's sorted entries (BTC-PERP, ETH-PERP).
    // Same state hash, different events and hashes: the order decides outcomes but is not in the
    // state hash, and a restarted ledger's log diverges from the original's.
    const live = freshLedger();
    run(live, [
      ...STANDARD_PRICES,
      deposit('alice', 'USDC', '10000'),
      deposit('bob', 'USDC', '10000'),
      trade({ market: 'ETH-PERP', price: '3000', size: '1', buyer: 'alice', seller: 'bob' }),
      trade({ market: 'BTC-PERP', price: '60000', size: '0.05', buyer: 'alice', seller: 'bob' }),
      funding('ETH-PERP', '0.001'),
      funding('BTC-PERP', '0.001'),
    ]);
    const restored = Ledger.fromSnapshot(live.snapshot(), parseConfig);
    expect(restored.stateHash()).toBe(live.stateHash());

    const command = deposit('alice', 'USDC', '1', { key: 'settle-alice' });
    const fromRestored = restored.execute(command);
    const fromLive = live.execute(command);
    expect(fromRestored).toEqual(fromLive);
    expect(restored.headHash).toBe(live.headHash);
  });
});

describe('the codec', () => {
  it('round-trips bigints of any size and sign', () => {
    const value = { zero: 0n, small: -3n, wad: 10n ** 18n, huge: -(2n ** 200n), text: '12', number: 12, flag: true, none: null };
    const text = encodeCanonical(value);
    expect(decodeCanonical(text)).toEqual(value);
    expect(text).toContain('"huge":{"$n":"-1606938044258990275541962092341162602522202993782792835301376"}');
  });

  it('writes keys sorted at every depth, so equal values give equal text whatever the insertion order', () => {
    const a = { b: 1n, a: [{ d: 'x', c: -3n }], e: { z: 1, y: 2 } };
    const b = { e: { y: 2, z: 1 }, a: [{ c: -3n, d: 'x' }], b: 1n };
    expect(encodeCanonical(a)).toBe('{"a":[{"c":{"$n":"-3"},"d":"x"}],"b":{"$n":"1"},"e":{"y":2,"z":1}}');
    expect(encodeCanonical(b)).toBe(encodeCanonical(a));
  });

  it('writes Maps as entry arrays sorted by key (decoded as arrays), and drops undefined fields', () => {
    const map = new Map<string, unknown>([
      ['ETH', 2n],
      ['BTC', { amount: 1n, note: undefined }],
    ]);
    const text = encodeCanonical({ balances: map, missing: undefined });
    expect(text).toBe('{"balances":[["BTC",{"amount":{"$n":"1"}}],["ETH",{"$n":"2"}]]}');
    expect(decodeCanonical(text)).toEqual({ balances: [['BTC', { amount: 1n }], ['ETH', 2n]] });
  });

  it('round-trips sealed events, bigints included, to the same hash', () => {
    const events = run(freshLedger(), [...HEAD, ...TAIL]);
    const decoded = decodeCanonical(encodeCanonical(events)) as SealedEvent[];
    expect(decoded).toEqual(events);
    expect(decoded.map((sealed) => eventHash(sealed))).toEqual(events.map((sealed) => sealed.hash));
    // A whole log round-tripped through text still replays.
    expect(replay(decoded).headSeq).toBe(events.length);
  });

  it('refuses numbers that are not safe integers: money never travels as a float', () => {
    expect(() => encodeCanonical({ amount: 0.1 })).toThrow('only safe integers');
    expect(() => encodeCanonical({ amount: 2 ** 53 })).toThrow('only safe integers');
    expect(() => encodeCanonical({ amount: Number.NaN })).toThrow('only safe integers');
    expect(encodeCanonical({ nowMs: Number.MAX_SAFE_INTEGER })).toBe('{"nowMs":9007199254740991}');
  });
});
