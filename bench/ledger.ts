/**
 * Ledger throughput: commands per second through decide + evolve (`Ledger.execute`, which
 * also seals each event into the hash chain), and events per second replayed into a fresh
 * ledger (`Ledger.apply`, which verifies every hash). In memory, one core.
 *
 * The command stream is seeded: 2,000 accounts deposit, borrow, withdraw, trade perps with
 * each other and see prices move; about one command in ten is refused (margin), as in life.
 */
import { parseRiskConfig } from '../src/core/config.ts';
import type { Command } from '../src/core/ledger/commands.ts';
import { decide } from '../src/core/ledger/decide.ts';
import { evolve } from '../src/core/ledger/evolve.ts';
import { Ledger, type SealedEvent } from '../src/core/ledger/ledger.ts';
import { createLedgerState } from '../src/core/ledger/state.ts';
import { DEMO_CONFIG } from '../src/service/demo.ts';
import { mulberry32 } from './population.ts';

const ACCOUNTS = 2_000;
const COMMANDS = 200_000;
const E18 = 10n ** 18n;
const E6 = 10n ** 6n;

export async function benchLedger(): Promise<Record<string, number>> {
  const { oracle: _oracle, ...riskJson } = DEMO_CONFIG;
  const parsed = parseRiskConfig(riskJson);
  if (!parsed.ok) throw new Error('bench config invalid');
  const commands = commandStream(mulberry32(0x1ed9e5));

  const ledger = Ledger.create(parsed.value, riskJson);
  const sealed: SealedEvent[] = [];
  let refused = 0;
  const executeStart = process.hrtime.bigint();
  for (const command of commands) {
    const result = ledger.execute(command);
    if (result.ok) sealed.push(...result.value.events);
    else refused += 1;
  }
  const executeNs = Number(process.hrtime.bigint() - executeStart);

  // decide + evolve alone, without sealing: the state machine's own cost.
  const state = createLedgerState(parsed.value, riskJson);
  const bareStart = process.hrtime.bigint();
  for (const command of commands) {
    const decision = decide(state, command);
    if (decision.ok) for (const event of decision.value) evolve(state, event);
  }
  const bareNs = Number(process.hrtime.bigint() - bareStart);

  const replica = Ledger.create(parsed.value, riskJson);
  const replayStart = process.hrtime.bigint();
  for (const event of sealed) replica.apply(event);
  const replayNs = Number(process.hrtime.bigint() - replayStart);
  if (replica.stateHash() !== ledger.stateHash()) throw new Error('replay reached another state hash');

  const figures = {
    commands: commands.length,
    refused,
    events: sealed.length,
    commandsPerSec: Math.round(commands.length / (executeNs / 1e9)),
    decideEvolvePerSec: Math.round(commands.length / (bareNs / 1e9)),
    replayEventsPerSec: Math.round(sealed.length / (replayNs / 1e9)),
  };
  console.log(`ledger: ${figures.commands} commands (${figures.refused} refused), ${figures.events} events`);
  console.log(`ledger: execute (decide + evolve + hash chain): ${figures.commandsPerSec} commands/s`);
  console.log(`ledger: decide + evolve alone: ${figures.decideEvolvePerSec} commands/s`);
  console.log(`ledger: replay (apply + verify hashes): ${figures.replayEventsPerSec} events/s`);
  console.log(
    `ledger: commandsPerSec=${figures.commandsPerSec} decideEvolvePerSec=${figures.decideEvolvePerSec} replayEventsPerSec=${figures.replayEventsPerSec}`,
  );
  return figures;
}

function commandStream(random: () => number): Command[] {
  const commands: Command[] = [];
  const prices: Record<string, number> = { BTC: 64_000, ETH: 3_200, SOL: 150, USDC: 1 };
  const pushPrice = (asset: string) => {
    commands.push({
      kind: 'price',
      idempotencyKey: `p${commands.length}`,
      asset,
      priceWad: BigInt(Math.round(prices[asset]! * 1e6)) * 10n ** 12n,
      confidenceWad: 0n,
    });
  };
  for (const asset of Object.keys(prices)) pushPrice(asset);
  for (let index = 0; index < ACCOUNTS; index += 1) {
    commands.push({ kind: 'deposit', idempotencyKey: `d${index}`, account: `a${index}`, asset: 'USDC', amount: 100_000n * E6 });
    commands.push({ kind: 'deposit', idempotencyKey: `e${index}`, account: `a${index}`, asset: 'ETH', amount: 5n * E18 });
  }
  const account = () => `a${Math.floor(random() * ACCOUNTS)}`;
  while (commands.length < COMMANDS) {
    const roll = random();
    const key = `c${commands.length}`;
    if (roll < 0.05) {
      const asset = (['BTC', 'ETH', 'SOL'] as const)[Math.floor(random() * 3)]!;
      prices[asset] = prices[asset]! * (1 + (random() - 0.5) * 0.01);
      pushPrice(asset);
    } else if (roll < 0.35) {
      commands.push({ kind: 'deposit', idempotencyKey: key, account: account(), asset: 'USDC', amount: BigInt(1 + Math.floor(random() * 5_000)) * E6 });
    } else if (roll < 0.6) {
      commands.push({ kind: 'withdraw', idempotencyKey: key, account: account(), asset: 'USDC', amount: BigInt(1 + Math.floor(random() * 20_000)) * E6 });
    } else {
      const buyer = account();
      let seller = account();
      if (seller === buyer) seller = buyer === 'a0' ? 'a1' : 'a0';
      const market = (['BTC-PERP', 'ETH-PERP', 'SOL-PERP'] as const)[Math.floor(random() * 3)]!;
      const base = market.replace('-PERP', '');
      const decimals = base === 'BTC' ? 8 : base === 'ETH' ? 18 : 9;
      const size = BigInt(Math.floor((random() * 20_000) / prices[base]! * 1e4)) * 10n ** BigInt(decimals - 4);
      if (size === 0n) continue;
      commands.push({
        kind: 'trade',
        idempotencyKey: key,
        market,
        priceWad: BigInt(Math.round(prices[base]! * 1e6)) * 10n ** 12n,
        size,
        buyer,
        seller,
        buyerFeeRateWad: 5n * 10n ** 14n,
        sellerFeeRateWad: 2n * 10n ** 14n,
      });
    }
  }
  return commands;
}
