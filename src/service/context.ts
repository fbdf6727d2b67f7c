/** What the HTTP layer works with: one object built by the service at start-up. */
import type { Oracle } from '../oracle/oracle.ts';
import type { RiskMonitor } from '../monitor/monitor.ts';
import type { EventStore } from '../store/store.ts';
import type { AccountAnswerCache } from './account-answers.ts';
import type { ApiKeyCache, RateLimiter } from './auth.ts';
import type { Engine } from './engine.ts';
import type { LiquidationHistory } from './liquidations.ts';
import type { Metrics } from './metrics.ts';
import type { PriceBridge } from './prices.ts';
import type { StreamHub } from './stream.ts';

export interface ServiceContext {
  readonly engine: Engine;
  readonly store: EventStore;
  readonly oracle: Oracle;
  readonly prices: PriceBridge;
  readonly monitor: RiskMonitor;
  readonly liquidations: LiquidationHistory;
  readonly stream: StreamHub;
  readonly metrics: Metrics;
  readonly limiter: RateLimiter;
  /** API keys by hash, in front of the store. */
  readonly apiKeys: ApiKeyCache;
  /** Account answers kept until an event changes them. */
  readonly accountAnswers: AccountAnswerCache;
  /** Milliseconds since the epoch; the only clock the service reads. */
  readonly clock: () => number;
}
