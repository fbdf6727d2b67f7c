// Entry of a sweep worker thread (sweep-pool.ts). Sources are TypeScript run through tsx,
// as in bin/collateral.js, so the worker registers tsx before loading its module.
import { register } from 'tsx/esm/api';

register();
await import('./sweep-worker.ts');
