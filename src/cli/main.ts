/**
 * The `collateral` command line. Each subcommand returns its exit code: 0 done,
 * 2 invalid input (a message naming the file and field on stderr), 1 anything else.
 */
import { evaluateCommand } from './evaluate.ts';
import { keysCommand } from './keys.ts';
import { replayCommand } from './replay.ts';
import { serveCommand } from './serve.ts';
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
  collateral help
      This text.
`;

type Command = (args: readonly string[]) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  evaluate: evaluateCommand,
  serve: serveCommand,
  keys: keysCommand,
  replay: replayCommand,
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
