/**
 * `collateral keys create --role ROLE [--account ID] [--db …]`: makes an API key and prints it
 * alone on the first line of stdout. Only its hash is stored: it is shown this once.
 */
import { createApiKey, isApiKeyRole, API_KEY_ROLES } from '../service/auth.ts';
import { openStore } from '../store/open.ts';
import { CliError, readFlags } from './io.ts';

export async function keysCommand(args: readonly string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'create') throw new CliError('usage: collateral keys create --role ROLE [--account ID] [--db PATH|postgres://…]');
  const flags = readFlags(rest, ['role', 'account', 'db'], ['role']);
  const role = flags.role as string;
  if (!isApiKeyRole(role)) throw new CliError(`--role: "${role}" is not one of ${API_KEY_ROLES.join(', ')}`);
  if (role === 'owner' && flags.account === undefined) throw new CliError('--account is required for an owner key');
  if (flags.account !== undefined && role !== 'owner' && role !== 'keeper') {
    throw new CliError(`--account: only owner and keeper keys are bound to an account`);
  }
  if (flags.account !== undefined && !/^[A-Za-z0-9_.:-]{1,64}$/.test(flags.account)) {
    throw new CliError(`--account: "${flags.account}" is not a valid account id`);
  }
  const store = await openStore(flags.db);
  try {
    const created = await createApiKey(store, role, flags.account, Date.now());
    process.stdout.write(`${created.key}\n`);
    process.stdout.write(`id ${created.record.id} role ${role}${flags.account === undefined ? '' : ` account ${flags.account}`}\n`);
  } finally {
    await store.close();
  }
  return 0;
}
