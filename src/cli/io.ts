/** Shared pieces of the command line: flags, reading JSON files, and input errors. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatIssues, type InputIssue } from '../core/input.ts';

/** Exit code for invalid input or usage: nothing was done. */
export const EXIT_USAGE = 2;

/** An error the user caused and can fix; its message is printed as is. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
  ) {
    super(message);
  }
}

/** Parses `--name value` flags; unknown flags and missing required ones are usage errors. */
export function readFlags<const Names extends string>(
  args: readonly string[],
  names: readonly Names[],
  required: readonly Names[],
): Record<Names, string | undefined> {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(names.map((name) => [name, { type: 'string' as const }]));
    values = parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  for (const name of required) {
    if (values[name] === undefined) throw new CliError(`--${name} is required`);
  }
  return values as Record<Names, string | undefined>;
}

/** Reads and parses a JSON file, naming the file in any error. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`${path}: invalid JSON (${(error as Error).message})`);
  }
}

/** Throws the issues found in `path` as one input error, one line each. */
export function inputError(path: string, issues: readonly InputIssue[]): CliError {
  const lines = formatIssues(issues)
    .split('\n')
    .map((line) => `${path}: ${line}`);
  return new CliError(lines.join('\n'));
}
