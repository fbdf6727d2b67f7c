/** Prometheus metrics (`GET /metrics`), one registry per service instance. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly commands = new Counter({
    name: 'collateral_commands_total',
    help: 'Commands accepted, by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly rejections = new Counter({
    name: 'collateral_rejections_total',
    help: 'Commands refused, by code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: 'collateral_commit_seconds',
    help: 'Duration of event log transactions (group commits)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly commitEvents = new Histogram({
    name: 'collateral_commit_events',
    help: 'Events per event log transaction',
    buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000],
    registers: [this.registry],
  });
  readonly liquidations = new Counter({
    name: 'collateral_liquidations_total',
    help: 'Liquidations executed',
    registers: [this.registry],
  });
  readonly accounts = new Gauge({
    name: 'collateral_accounts',
    help: 'Accounts by risk status',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly insuranceFundUsd = new Gauge({
    name: 'collateral_insurance_fund_usd',
    help: 'Insurance fund value at current prices (USD)',
    registers: [this.registry],
  });
  readonly oracleHealthy = new Gauge({
    name: 'collateral_oracle_healthy',
    help: '1 when the asset price passes its guards, 0 when not',
    labelNames: ['asset'],
    registers: [this.registry],
  });
  readonly headSeq = new Gauge({
    name: 'collateral_event_seq',
    help: 'Sequence number of the last event',
    registers: [this.registry],
  });
}
