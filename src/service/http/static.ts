/**
 * The dashboard's files (`web/dist`, built by Vite) served at `/`. No file system path is
 * ever built from a request: the directory is read once when the service starts, and each
 * file it holds becomes one exact route (`/`, `/index.html`, `/assets/index-1a2b3c.js`, …).
 * Anything else is not a route, so `..`, encoded slashes and symlinks lead nowhere.
 *
 * Bounded: at most `MAX_FILES` files and `MAX_TOTAL_BYTES` bytes are kept in memory, each
 * text file with its gzip form made once. Hashed assets are cached for a year; the page
 * itself is revalidated (ETag) so a new build is picked up after a restart.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors.ts';

/** Where `vite build web` writes the dashboard. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

export const MAX_FILES = 500;
export const MAX_TOTAL_BYTES = 32 * 1024 * 1024;
const MAX_DEPTH = 4;

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt', '.webmanifest']);

/**
 * The page may load only its own scripts and styles and talk only to this service (the
 * WebSocket stream included). uPlot sets inline styles on its elements, hence `'unsafe-inline'`
 * for styles only.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface StaticFile {
  readonly body: Buffer;
  readonly gzip: Buffer | null;
  readonly contentType: string;
  readonly etag: string;
  /** Vite's content-hashed output under `assets/`: never changes under its name. */
  readonly immutable: boolean;
}

/** Reads `root` into a map from URL path (`/assets/x.js`) to file; empty when `root` is missing. */
export function loadStaticFiles(root: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  let totalBytes = 0;
  const walk = (directory: string, urlPrefix: string, depth: number): void => {
    let entries: string[];
    try {
      entries = readdirSync(directory).sort();
    } catch {
      return;
    }
    for (const name of entries) {
      if (name.startsWith('.')) continue;
      const path = join(directory, name);
      const stat = lstatSync(path);
      if (stat.isDirectory() && depth < MAX_DEPTH) {
        walk(path, `${urlPrefix}${name}/`, depth + 1);
        continue;
      }
      const contentType = CONTENT_TYPES[extname(name).toLowerCase()];
      if (!stat.isFile() || contentType === undefined || !/^[A-Za-z0-9_.-]+$/.test(name)) continue;
      if (files.size >= MAX_FILES || totalBytes + stat.size > MAX_TOTAL_BYTES) {
        throw new Error(`${root}: more than ${MAX_FILES} files or ${MAX_TOTAL_BYTES} bytes; not a dashboard build`);
      }
      const body = readFileSync(path);
      totalBytes += body.length;
      const gzip = COMPRESSIBLE.has(extname(name).toLowerCase()) && body.length > 512 ? gzipSync(body, { level: 9 }) : null;
      files.set(`${urlPrefix}${name}`, {
        body,
        gzip: gzip !== null && gzip.length < body.length ? gzip : null,
        contentType,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
        immutable: urlPrefix === '/assets/',
      });
    }
  };
  walk(root, '/', 0);
  return files;
}

/** Registers one GET (and HEAD) route per dashboard file, and `/` for the page. */
export function registerStatic(app: FastifyInstance, options: { readonly root: string }): void {
  const files = loadStaticFiles(options.root);
  const page = files.get('/index.html');
  if (page === undefined) {
    app.get('/', { schema: { hide: true } }, async () => {
      throw new HttpError(404, 'NOT_FOUND', 'the dashboard is not built: run `npm run build:web` (npm install does it)');
    });
    return;
  }
  app.get('/', { schema: { hide: true } }, async (request, reply) => send(request, reply, page));
  for (const [path, file] of files) {
    app.get(path, { schema: { hide: true } }, async (request, reply) => send(request, reply, file));
  }
}

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile): FastifyReply {
  void reply
    .header('content-type', file.contentType)
    .header('etag', file.etag)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (file.contentType.startsWith('text/html')) void reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  if (request.headers['if-none-match'] === file.etag) return reply.status(304).send();
  if (file.gzip !== null) {
    void reply.header('vary', 'accept-encoding');
    if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
      return reply.header('content-encoding', 'gzip').send(file.gzip);
    }
  }
  return reply.send(file.body);
}
