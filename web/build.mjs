#!/usr/bin/env node
// Builds the dashboard (web/ → web/dist) with Vite. Run by `npm install` (prepare) and
// `npm start` (prestart). `--if-stale` builds only when a source is newer than the build.
// Vite is a devDependency: without it (an install with --omit=dev) this says so and exits 0,
// and the service answers `/` with a hint instead of the page.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('.', import.meta.url));
const built = join(web, 'dist', 'index.html');

function newestSourceMs(directory) {
  let newest = 0;
  for (const name of readdirSync(directory)) {
    if (name === 'dist' || name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(directory, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestSourceMs(path) : stat.mtimeMs);
  }
  return newest;
}

if (process.argv.includes('--if-stale') && existsSync(built) && statSync(built).mtimeMs >= newestSourceMs(web)) {
  process.exit(0);
}

let vite;
try {
  vite = await import('vite');
} catch {
  process.stderr.write('web/build.mjs: vite is not installed (devDependency); the dashboard is not built\n');
  process.exit(0);
}
await vite.build({ root: web, configFile: join(web, 'vite.config.ts') });
process.stdout.write(`web/build.mjs: dashboard built into ${join(web, 'dist')}\n`);
