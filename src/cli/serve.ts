/**
 * `collateral serve [--config risk.json] [--db PATH|postgres://…] [--port 8080] [--host H] [--demo] [--no-auto-liquidate] [--rate-limit N] [--snapshot-every EVENTS]`
 * The service. `--demo` (what `npm start` runs) adds the default configuration, the simulated
 * feed and demo accounts, and prints an admin key. SIGINT/SIGTERM stop it cleanly: intake
 * stops, queued commands become durable, the store closes.
 */
import { DEMO_CONFIG, startDemo } from '../service/demo.ts';
import { createApiKey } from '../service/auth.ts';
import { ServiceConfigError, startService } from '../service/service.ts';
import { CliError, readFlags, readJsonFile } from './io.ts';

export async function serveCommand(args: readonly string[]): Promise<number> {
  const demo = args.includes('--demo');
  const autoLiquidate = !args.includes('--no-auto-liquidate');
  const flags = readFlags(
    args.filter((arg) => arg !== '--demo' && arg !== '--no-auto-liquidate'),
    ['config', 'db', 'port', 'host', 'rate-limit', 'snapshot-every'],
    [],
  );
  if (!demo && flags.config === undefined) throw new CliError('--config is required (or --demo for the demo configuration)');
  const configJson = flags.config === undefined ? DEMO_CONFIG : await readJsonFile(flags.config);
  const port = readPort(flags.port ?? process.env.PORT ?? '8080');
  const snapshotEveryEvents = flags['snapshot-every'] === undefined ? undefined : readSnapshotEvery(flags['snapshot-every']);
  let service;
  try {
    service = await startService({
      configJson,
      ...(flags.db !== undefined && { db: flags.db }),
      port,
      host: flags.host ?? '127.0.0.1',
      autoLiquidate,
      rateLimitPerSecond: Number(flags['rate-limit'] ?? '5000'),
      tickMs: 1_000,
      ...(snapshotEveryEvents !== undefined && { snapshotEveryEvents }),
    });
  } catch (error) {
    if (error instanceof ServiceConfigError) throw new CliError(`${flags.config ?? 'demo configuration'}: ${error.message}`);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError(`--port: ${port} is already in use (another collateral serve?)`, 1);
    }
    throw error;
  }
  const demoRun = demo ? await startDemo(service.context, { seed: 7, accounts: 300, tickMs: 1_000 }) : undefined;
  process.stdout.write(`collateral: serving on ${service.url} (event log at seq ${service.context.engine.ledger.headSeq})\n`);
  if (demo) {
    const admin = await createApiKey(service.context.store, 'admin', undefined, Date.now());
    process.stdout.write(`collateral: demo admin key: ${admin.key}\n`);
    process.stdout.write(`collateral: open ${service.url}/#key=${admin.key}\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stdout.write('collateral: shutting down\n');
  demoRun?.stop();
  await service.close();
  return 0;
}

function readPort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new CliError(`--port: "${text}" is not a port number`);
  return port;
}

/** Events between snapshots (default DEFAULT_ENGINE_OPTIONS.snapshotEveryEvents). */
function readSnapshotEvery(text: string): number {
  const events = Number(text);
  if (!Number.isSafeInteger(events) || events < 1) throw new CliError(`--snapshot-every: "${text}" is not a positive number of events`);
  return events;
}
