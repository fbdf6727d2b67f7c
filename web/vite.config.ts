/**
 * The dashboard's build: `vite build web` (run by `npm install` through `prepare`) writes a
 * self-contained page into web/dist, which `collateral serve` serves at `/`. No CDN: every
 * script, style and font is in the bundle.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // One small page: a single script and a single stylesheet load fastest.
    cssCodeSplit: false,
    modulePreload: false,
    chunkSizeWarningLimit: 200,
  },
  server: {
    // `npx vite web` during development: the API and the stream from a local `npm start`.
    proxy: {
      '/v1': { target: 'http://127.0.0.1:8080', ws: true },
    },
  },
});
