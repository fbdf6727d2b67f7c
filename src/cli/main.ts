/**
 * The `collateral` command line. Each subcommand returns its exit code: 0 done,
 * 2 invalid input (a message naming the file and field on stderr), 1 anything else.
 */
import { evaluateCommand } from './evaluate.ts';
import { keysCommand } from './keys.ts';
import { preflightCommand } from './preflight.ts';
import { replayCommand } from './replay.ts';
import { serveCommand } from './serve.ts';
import { simulateCommand } from './simulate.ts';
import { CliError, EXIT_USAGE } from './io.ts';

const USAGE = `collateral — collateral management and liquidation engine

Usage:
  collateral serve [--config risk.json] [--db PATH|postgres://…] [--port 8080] [--host 127.0.0.1] [--demo]
      The service (HTTP + WebSocket API). --demo: demo configuration, simulated feed and accounts.
  collateral keys create --role admin|oracle|venue|keeper|reader|owner [--account ID] [--db …]
      Makes an API key and prints it alone on the first line (shown once, stored hashed).
  collateral replay [--db …]
      Rebuilds the state from the event log, verifying the hash chain; prints the state hash.
  collateral evaluate --config risk.json --portfolios portfolios.json --prices prices.json
      Values every account of portfolios.json at the given prices; prints a JSON array.
  collateral simulate --scenario NAME|FILE|montecarlo [--accounts N] [--seed S] [--out DIR] [--config risk.json]
                      [--paths N] [--steps N] [--sweep param=from:to:step] [--insurance USD] [--backstop USD]
                      [--depth USD|ASSET=USD,…] [--impact-half-life-ms MS]
      Replays a crisis (black-thursday-2020, luna-2022, ftx-2022, usdc-depeg-2023, oct-2025-cascade, or a file)
      or Monte Carlo paths over a seeded population through the engine; writes report.json and report.html
      (a sweep: sweep.json, sweep.svg, sweep.html and a table).
  collateral preflight --config new-risk.json [--db …] [--scenarios a,b]
      Judges a proposed configuration on the live book: accounts it makes warning or liquidatable at once,
      and the bad debt of each built-in crisis under the current and the proposed configuration (JSON).
  collateral help
      This text.
`;

type Command = (args: readonly string[]) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  evaluate: evaluateCommand,
  serve: serveCommand,
  keys: keysCommand,
  replay: replayCommand,
  simulate: simulateCommand,
  preflight: preflightCommand,
};

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`collateral: unknown command "${name}"\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  try {
    return await command(args);
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`collateral ${name}: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}
