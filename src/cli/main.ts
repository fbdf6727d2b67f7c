/**
 * The `collateral` command line. Each subcommand returns its exit code: 0 done,
 * 2 invalid input (a message naming the file and field on stderr), 1 anything else.
 */
import { evaluateCommand } from './evaluate.ts';
import { CliError, EXIT_USAGE } from './io.ts';

const USAGE = `collateral — collateral management and liquidation engine

Usage:
  collateral evaluate --config risk.json --portfolios portfolios.json --prices prices.json
      Values every account of portfolios.json at the given prices; prints a JSON array.
  collateral help
      This text.
`;

type Command = (args: readonly string[]) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  evaluate: evaluateCommand,
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
