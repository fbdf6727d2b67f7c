import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, loadStaticFiles, registerStatic } from './static.ts';

const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});\n`;

describe('static dashboard files', () => {
  let root: string;
  let outside: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ce-static-'));
    outside = mkdtempSync(join(tmpdir(), 'ce-outside-'));
    writeFileSync(join(outside, 'secret.txt'), 'TOP-SECRET-CONTENT');
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(root, 'assets', 'index-AbC123.js'), SCRIPT);
    writeFileSync(join(root, 'assets', 'style-XyZ.css'), 'body{}');
    writeFileSync(join(root, '.env'), 'hidden');
    writeFileSync(join(root, 'notes.md'), 'no content type');
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
    symlinkSync(outside, join(root, 'linked'));
    app = Fastify();
    registerStatic(app, { root });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('holds only regular files with a known type, never hidden files or symlinks', () => {
    expect([...loadStaticFiles(root).keys()].sort()).toEqual(['/assets/index-AbC123.js', '/assets/style-XyZ.css', '/favicon.svg', '/index.html']);
  });

  it('serves the page at / with its content type, a content security policy and revalidation', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.body).toContain('<title>t</title>');
    const again = await app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': String(response.headers.etag) } });
    expect(again.statusCode).toBe(304);
  });

  it('serves hashed assets as immutable, gzipped when the client accepts it', async () => {
    const plain = await app.inject({ method: 'GET', url: '/assets/index-AbC123.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toContain('immutable');
    expect(plain.body).toBe(SCRIPT);
    const zipped = await app.inject({ method: 'GET', url: '/assets/index-AbC123.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.rawPayload).toString()).toBe(SCRIPT);
    const css = await app.inject({ method: 'GET', url: '/assets/style-XyZ.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const svg = await app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(svg.headers['content-type']).toBe('image/svg+xml');
  });

  it.each([
    '/../package.json',
    '/assets/../index.html/../../etc/passwd',
    '/assets/%2e%2e/%2e%2e/etc/passwd',
    '/assets/..%2F..%2Fetc%2Fpasswd',
    '/%2e%2e%2fpackage.json',
    '/link.txt',
    '/linked/secret.txt',
    '/.env',
    '/notes.md',
    '/assets/',
    '/assets/INDEX-ABC123.JS',
  ])('answers %s with 404 (no path traversal, nothing outside the build)', async (url) => {
    const response = await app.inject({ method: 'GET', url });
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain('TOP-SECRET-CONTENT');
  });

  it('says how to build the page when there is no build', async () => {
    const empty = Fastify();
    registerStatic(empty, { root: join(root, 'does-not-exist') });
    const response = await empty.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(404);
    expect(response.body).toContain('npm run build:web');
    await empty.close();
  });
});
