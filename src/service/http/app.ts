/**
 * The HTTP and WebSocket API (DESIGN.md, Public contract). Concerns are plugins registered
 * in the order data flows: errors and auth first, then the routes that write (prices,
 * collateral, trades, liquidations), the routes that read, the configuration pre-flight, the
 * stream, metrics and docs.
 */
import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { parseRiskConfig } from '../../core/config.ts';
import { parseDecimal, WAD, WAD_DECIMALS, formatWad } from '../../core/fixed.ts';
import type { Command } from '../../core/ledger/commands.ts';
import { decide } from '../../core/ledger/decide.ts';
import type { Outcome } from '../../core/ledger/ledger.ts';
import { deleveragingRankOf } from '../../core/ledger/liquidate.ts';
import { accountView, SYSTEM } from '../../core/ledger/state.ts';
import { explainAccount } from '../../core/health.ts';
import { liquidationPrices } from '../../core/liquidation-price.ts';
import { equityAtMid } from '../../core/liquidation/plan.ts';
import { formatAmount, presentAccountRisk, presentBalances, presentLevel } from '../../core/present.ts';
import { previewWhatIf, type WhatIf } from '../../core/preview.ts';
import type { PriceUpdate } from '../../oracle/oracle.ts';
import { BUNDLED_SCENARIOS } from '../../oracle/feeds/playback.ts';
import type { PublisherSignature } from '../../oracle/signatures.ts';
import { configImpact } from '../../sim/config-impact.ts';
import { preflightReport, type PreflightError } from '../../sim/preflight.ts';
import { authenticate, type ApiKeyRole, type Principal } from '../auth.ts';
import { EngineUnavailableError } from '../engine.ts';
import type { ServiceContext } from '../context.ts';
import type { LiquidationRecord } from '../liquidations.ts';
import { HttpError, invalidRequest, rejectionError } from './errors.ts';
import { registerRiskViews } from './risk-views.ts';
import * as schema from './schemas.ts';
import { DASHBOARD_DIR, registerStatic } from './static.ts';

/** Largest request body accepted: every valid body is far smaller. */
export const BODY_LIMIT_BYTES = 64 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Roles allowed; an `owner` key only for its own account where the route has an `:id`. */
    roles?: readonly ApiKeyRole[];
    /**
     * The key may also come as `?key=` (the stream only: browsers cannot set headers on a
     * WebSocket). A header, when present, wins.
     */
    keyInQuery?: boolean;
  }
}

const READERS: readonly ApiKeyRole[] = ['admin', 'reader', 'venue', 'keeper'];

export async function buildApp(context: ServiceContext): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: BODY_LIMIT_BYTES,
    logger: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Collateral Engine', version: '1.0.0', description: 'Collateral, margin and liquidation API' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(websocket, { options: { maxPayload: 4096 } });
  registerErrors(app, context);
  registerAuth(app, context);
  registerWrites(app, context);
  registerReads(app, context);
  registerPreflight(app, context);
  registerRiskViews(app, context, {
    readers: READERS,
    presentLiquidation: (record) => liquidationJson(context, record),
    insuranceValueUsd: () => insuranceValueUsd(context),
  });
  registerStream(app, context);
  registerOperations(app, context);
  registerStatic(app, { root: DASHBOARD_DIR });
  return app;
}

// ── Errors ───────────────────────────────────────────────────────────────────────────────

function registerErrors(app: FastifyInstance, context: ServiceContext): void {
  app.setErrorHandler((error: unknown, _request, reply) => {
    const failure = toHttpError(error);
    if (failure.statusCode >= 500 && failure.code === 'INTERNAL') console.error(error);
    if (failure.code !== 'INTERNAL') context.metrics.rejections.inc({ code: failure.code });
    void reply.status(failure.statusCode).send(failure.body());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(new HttpError(404, 'NOT_FOUND', `no route ${request.method} ${request.url}`).body());
  });
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof EngineUnavailableError) return new HttpError(503, 'UNAVAILABLE', error.message, { reason: error.code });
  const fastifyError = error as { validation?: { instancePath?: string; message?: string; params?: Record<string, unknown> }[]; validationContext?: string; statusCode?: number; code?: string; message?: string };
  if (fastifyError.validation !== undefined) {
    const first = fastifyError.validation[0];
    const extra = first?.params?.additionalProperty;
    const path = `${fastifyError.validationContext ?? 'body'}${first?.instancePath?.replaceAll('/', '.') ?? ''}`;
    const field = typeof extra === 'string' ? `${path}.${extra}` : path;
    const message = typeof extra === 'string' ? 'unknown field' : (first?.message ?? 'invalid');
    return invalidRequest(field, message);
  }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body larger than ${BODY_LIMIT_BYTES} bytes`);
  }
  if (fastifyError.statusCode !== undefined && fastifyError.statusCode < 500) {
    return new HttpError(400, 'INVALID_REQUEST', fastifyError.message ?? 'invalid request');
  }
  return new HttpError(500, 'INTERNAL', 'internal error');
}

// ── Auth ─────────────────────────────────────────────────────────────────────────────────

function registerAuth(app: FastifyInstance, context: ServiceContext): void {
  app.addHook('onRequest', async (request) => {
    const roles = request.routeOptions.config.roles;
    if (roles === undefined) return;
    const principal = await authenticate(context.apiKeys, request.headers.authorization ?? keyFromQuery(request));
    if (principal === null) throw new HttpError(401, 'UNAUTHORIZED', 'missing or unknown API key (Authorization: Bearer <key>)');
    if (!context.limiter.take(principal.keyId, context.clock())) {
      throw new HttpError(429, 'RATE_LIMITED', 'too many requests for this key; slow down');
    }
    if (!roles.includes(principal.role)) {
      throw new HttpError(403, 'FORBIDDEN', `a ${principal.role} key may not do this`);
    }
    // An owner key acts only on its own account; routes without an account (prices, the
    // stream) that list `owner` are open to it, and the stream filters to its account.
    const accountParam = (request.params as { id?: string } | undefined)?.id;
    if (principal.role === 'owner' && accountParam !== undefined && principal.account !== accountParam) {
      throw new HttpError(403, 'FORBIDDEN', `an owner key may only act on account ${principal.account ?? '?'}`);
    }
    request.principal = principal;
  });
}

/** `?key=K` as a bearer header, on routes that take the key in the query (the stream). */
function keyFromQuery(request: FastifyRequest): string | undefined {
  if (request.routeOptions.config.keyInQuery !== true) return undefined;
  const key = (request.query as { key?: unknown } | undefined)?.key;
  return typeof key === 'string' && key.length > 0 ? `Bearer ${key}` : undefined;
}

// ── Writes ───────────────────────────────────────────────────────────────────────────────

function registerWrites(app: FastifyInstance, context: ServiceContext): void {
  const config = () => context.engine.ledger.state.config;

  app.post(
    '/v1/prices',
    { config: { roles: ['admin', 'oracle'] }, schema: { body: schema.PRICES_BODY } },
    async (request) => {
      const body = request.body as {
        prices: { asset: string; price: string; confidence?: string; timestamp: number }[];
        signatures?: (PublisherSignature & { asset: string })[];
      };
      const source = request.principal?.keyId ?? 'unknown';
      const updates: PriceUpdate[] = body.prices.map((entry) => {
        const signatures = (body.signatures ?? [])
          .filter((signature) => signature.asset === entry.asset)
          .map(({ asset: _asset, ...signature }) => signature);
        return {
          source,
          asset: entry.asset,
          price: entry.price,
          ...(entry.confidence !== undefined && { confidence: entry.confidence }),
          timestampMs: entry.timestamp,
          ...(signatures.length > 0 && { signatures }),
        };
      });
      const results = await context.prices.push(updates);
      const rejected = results.filter((result) => result.status === 'rejected');
      if (rejected.length === results.length) {
        throw new HttpError(422, 'PRICE_REJECTED', 'every price was rejected by the oracle guards', { results });
      }
      return { results };
    },
  );

  app.post(
    '/v1/accounts/:id/deposits',
    { config: { roles: ['admin', 'venue'] }, schema: { params: schema.ACCOUNT_PARAMS, body: schema.TRANSFER_BODY } },
    async (request) => {
      const { id } = request.params as { id: string };
      const body = request.body as { asset: string; amount: string; idempotencyKey: string; owner?: string };
      const amount = parseAmount(context, body.amount, body.asset, 'body.amount');
      const outcome = await submit(context, {
        kind: 'deposit',
        idempotencyKey: body.idempotencyKey,
        account: id,
        asset: body.asset,
        amount,
        ...(body.owner !== undefined && { owner: body.owner }),
      });
      return commandResponse(context, outcome, id);
    },
  );

  app.post(
    '/v1/accounts/:id/withdrawals',
    { config: { roles: ['admin', 'venue', 'owner'] }, schema: { params: schema.ACCOUNT_PARAMS, body: schema.TRANSFER_BODY } },
    async (request) => {
      const { id } = request.params as { id: string };
      const body = request.body as { asset: string; amount: string; idempotencyKey: string; owner?: string };
      if (body.owner !== undefined) throw invalidRequest('body.owner', 'only a first deposit sets the owner');
      const amount = parseAmount(context, body.amount, body.asset, 'body.amount');
      const outcome = await submit(context, {
        kind: 'withdraw',
        idempotencyKey: body.idempotencyKey,
        account: id,
        asset: body.asset,
        amount,
      });
      return commandResponse(context, outcome, id);
    },
  );

  app.post('/v1/trades', { config: { roles: ['admin', 'venue'] }, schema: { body: schema.TRADE_BODY } }, async (request) => {
    const body = request.body as {
      market: string;
      price: string;
      size: string;
      buyer: string;
      seller: string;
      buyerFeeRate?: string;
      sellerFeeRate?: string;
      idempotencyKey: string;
    };
    const market = config().markets.get(body.market);
    if (market === undefined) throw new HttpError(400, 'UNKNOWN_MARKET', `unknown market "${body.market}"`, { market: body.market });
    const outcome = await submit(context, {
      kind: 'trade',
      idempotencyKey: body.idempotencyKey,
      market: body.market,
      priceWad: parseWad(body.price, 'body.price'),
      size: parseAmount(context, body.size, market.base, 'body.size'),
      buyer: body.buyer,
      seller: body.seller,
      buyerFeeRateWad: body.buyerFeeRate === undefined ? 0n : parseWad(body.buyerFeeRate, 'body.buyerFeeRate'),
      sellerFeeRateWad: body.sellerFeeRate === undefined ? 0n : parseWad(body.sellerFeeRate, 'body.sellerFeeRate'),
    });
    return {
      ...eventsResponse(outcome),
      buyer: committedAccountJson(context, body.buyer),
      seller: committedAccountJson(context, body.seller),
    };
  });

  app.post(
    '/v1/liquidations',
    { config: { roles: ['admin', 'keeper'] }, schema: { body: schema.LIQUIDATION_BODY } },
    async (request) => {
      const body = request.body as { account: string; idempotencyKey: string; maxNotionalUsd?: string; liquidator?: string };
      const principal = request.principal;
      const liquidator = liquidatorFor(principal, body.liquidator);
      const outcome = await submit(context, {
        kind: 'liquidate',
        idempotencyKey: body.idempotencyKey,
        account: body.account,
        liquidator,
        nowMs: context.clock(),
        ...(body.maxNotionalUsd !== undefined && { maxNotionalUsd: parseWad(body.maxNotionalUsd, 'body.maxNotionalUsd') }),
      });
      const liquidation = context.liquidations.list(1, undefined, body.account)[0];
      return {
        ...eventsResponse(outcome),
        liquidation: liquidation === undefined ? null : liquidationJson(context, liquidation),
        account: committedAccountJson(context, body.account),
      };
    },
  );

  app.post('/v1/auctions/bids', { config: { roles: ['admin', 'keeper'] }, schema: { body: schema.BID_BODY } }, async (request) => {
    const body = request.body as { auctionId: string; amount: string; maxPrice: string; idempotencyKey: string };
    const taker = request.principal?.account;
    if (taker === undefined) throw new HttpError(403, 'FORBIDDEN', 'bidding needs a keeper key bound to an account (--account)');
    const auction = context.engine.ledger.state.auctions.get(body.auctionId);
    if (auction === undefined) throw rejectionError({ code: 'UNKNOWN_AUCTION', auctionId: body.auctionId }, config());
    const outcome = await submit(context, {
      kind: 'bid',
      idempotencyKey: body.idempotencyKey,
      auctionId: body.auctionId,
      taker,
      amount: parseAmount(context, body.amount, auction.collateralAsset, 'body.amount'),
      maxPriceWad: parseWad(body.maxPrice, 'body.maxPrice'),
      nowMs: context.clock(),
    });
    return eventsResponse(outcome);
  });

  // A change that would make accounts liquidatable the moment it applies is refused unless
  // forced; a forced change records who forced it in the event log (its idempotency key carries
  // the admin key's id), in the answer and in the service's log (src/sim/config-impact.ts).
  app.post('/v1/config', { config: { roles: ['admin'] }, schema: { body: schema.CONFIG_BODY } }, async (request) => {
    const body = request.body as { config: unknown; idempotencyKey: string; force?: boolean };
    const keyId = request.principal?.keyId ?? 'unknown';
    const proposed = parseRiskConfig(body.config);
    const impact = proposed.ok ? configImpact(context.engine.ledger.state, proposed.value) : null;
    const atOnce = impact?.newlyLiquidatable.length ?? 0;
    if (impact !== null && atOnce > 0 && body.force !== true) {
      throw new HttpError(
        409,
        'CONFIG_WOULD_LIQUIDATE',
        `${atOnce} account(s) would be liquidatable as soon as this configuration applies; send "force": true to apply it anyway`,
        { accounts: atOnce, sample: impact.newlyLiquidatable.slice(0, 20), newlyWarning: impact.newlyWarning.length },
      );
    }
    // The key depends on the request alone, so a retry of a forced change is answered from the first outcome.
    const forced = body.force === true;
    const idempotencyKey = forced ? `${body.idempotencyKey}#forced-by:${keyId}` : body.idempotencyKey;
    const outcome = await submit(context, { kind: 'config', idempotencyKey, config: body.config });
    if (forced && atOnce > 0 && !outcome.replayed) {
      console.warn(
        `collateral: configuration change forced by API key ${keyId}: ${atOnce} account(s) liquidatable at once (event ${outcome.events[0]?.seq ?? '?'})`,
      );
    }
    return { ...eventsResponse(outcome), ...(forced && { forcedBy: keyId, liquidatableAtOnce: atOnce }) };
  });
}

function liquidatorFor(principal: Principal | undefined, requested: string | undefined): string {
  if (principal?.role === 'admin') return requested ?? SYSTEM.backstop;
  if (principal?.account === undefined) {
    throw new HttpError(403, 'FORBIDDEN', 'a keeper key must be bound to the account it liquidates from (--account)');
  }
  if (requested !== undefined && requested !== principal.account) {
    throw new HttpError(403, 'FORBIDDEN', `this key liquidates from ${principal.account} only`);
  }
  return principal.account;
}

// ── Reads ────────────────────────────────────────────────────────────────────────────────

function registerReads(app: FastifyInstance, context: ServiceContext): void {
  const ledger = () => context.engine.ledger;

  app.get('/v1/prices', { config: { roles: [...READERS, 'oracle', 'owner'] } }, async () => {
    const state = ledger().state;
    return {
      prices: context.oracle.status(context.clock()).map((status) => {
        const recorded = state.prices.get(status.asset);
        return {
          asset: status.asset,
          price: recorded === undefined ? null : formatWad(recorded.priceWad),
          confidence: recorded === undefined ? null : formatWad(recorded.confidenceWad),
          stablePrice: recorded?.stablePriceWad === undefined ? null : formatWad(recorded.stablePriceWad),
          markPrice: recorded?.markPriceWad === undefined ? null : formatWad(recorded.markPriceWad),
          healthy: status.healthy,
          reasons: status.reasons,
          freshSources: status.freshSources,
          quorum: status.quorum,
          updatedAtMs: status.price?.updatedAtMs ?? null,
        };
      }),
    };
  });

  app.get(
    '/v1/accounts/:id',
    { config: { roles: [...READERS, 'owner'] }, schema: { params: schema.ACCOUNT_PARAMS } },
    async (request) => accountJson(context, (request.params as { id: string }).id),
  );

  app.post(
    '/v1/accounts/:id/preview',
    { config: { roles: [...READERS, 'owner'] }, schema: { params: schema.ACCOUNT_PARAMS, body: schema.PREVIEW_BODY } },
    async (request) => {
      const { id } = request.params as { id: string };
      const state = ledger().state;
      const record = state.accounts.get(id);
      if (record === undefined) throw rejectionError({ code: 'UNKNOWN_ACCOUNT', account: id }, state.config);
      const actions = (request.body as { actions: Record<string, string>[] }).actions.map((action, index) =>
        parseWhatIf(context, action, `body.actions[${index}]`),
      );
      const preview = previewWhatIf({ account: accountView(state, record), prices: state.prices }, actions, state.config);
      if (!preview.ok) throw rejectionError(preview.error, state.config);
      const after = preview.value;
      // The same valuation as `after.after`, with its breakdown for the answer.
      const explained = explainAccount(after.scenario.account, after.scenario.prices, state.config);
      if (!explained.ok) throw rejectionError(explained.error, state.config);
      return {
        ...presentAccountRisk(after.scenario.account, explained.value, liquidationPrices(after.scenario.account, after.scenario.prices, state.config), state.config),
        balances: presentBalances(after.scenario.account, state.config),
        before: { initial: presentLevel(after.before.initial), maintenance: presentLevel(after.before.maintenance) },
        check: ledgerCheck(context, id, actions),
      };
    },
  );

  app.get('/v1/risk/accounts', { config: { roles: READERS }, schema: { querystring: schema.RISK_QUERY } }, async (request) => {
    const query = request.query as { status: 'liquidatable' | 'warning'; limit?: string };
    const limit = Math.min(Number(query.limit ?? '100'), 1000);
    return {
      status: query.status,
      counts: context.monitor.counts(),
      accounts: context.monitor.list(query.status, limit).map((status) => ({
        id: status.account,
        maintenanceHealth: formatWad(status.maintenanceHealthUsd),
        maintenanceRatio: status.maintenanceRatioWad === null ? null : formatWad(status.maintenanceRatioWad),
        initialHealth: formatWad(status.initialHealthUsd),
        liquidatable: status.liquidatable,
        warning: status.warning,
      })),
    };
  });

  app.get('/v1/liquidations', { config: { roles: READERS }, schema: { querystring: schema.PAGE_QUERY } }, async (request) => {
    const query = request.query as { before?: string; limit?: string; account?: string };
    const limit = Math.min(Number(query.limit ?? '50'), 1000);
    const before = query.before === undefined ? undefined : Number(query.before);
    return {
      total: context.liquidations.total,
      liquidations: context.liquidations.list(limit, before, query.account).map((record) => liquidationJson(context, record)),
    };
  });

  app.get('/v1/insurance-fund', { config: { roles: READERS } }, async () => insuranceJson(context));

  app.get('/v1/auctions', { config: { roles: READERS } }, async () => {
    const state = ledger().state;
    return {
      auctions: [...state.auctions.values()].map((auction) => ({
        id: auction.id,
        account: auction.account,
        collateralAsset: auction.collateralAsset,
        lot: formatAmount(auction.lot, auction.collateralAsset, state.config),
        debtAsset: auction.debtAsset,
        tab: formatAmount(auction.tab, auction.debtAsset, state.config),
        startPrice: formatWad(auction.startPriceWad),
        startMs: auction.startMs,
      })),
    };
  });

  app.get('/v1/events', { config: { roles: ['admin', 'reader'] }, schema: { querystring: schema.PAGE_QUERY } }, async (request) => {
    const query = request.query as { after?: string; limit?: string };
    const after = Number(query.after ?? '0');
    const limit = Math.min(Number(query.limit ?? '100'), 1000);
    const records = await context.store.read(after, limit);
    return {
      events: records.map((record) => ({
        seq: record.seq,
        key: record.key,
        prevHash: record.prevHash,
        hash: record.hash,
        ...(JSON.parse(record.body) as object),
      })),
      next: records.length === 0 ? after : (records[records.length - 1]?.seq ?? after),
    };
  });

  app.get('/v1/config', { config: { roles: READERS } }, async () => ({ config: ledger().state.configJson }));
}

// ── Configuration pre-flight ─────────────────────────────────────────────────────────────

/**
 * `POST /v1/config/preflight`: the judgement `collateral preflight` prints (src/sim/preflight.ts
 * `preflightReport`), on the live book. It changes nothing, so readers may run it. The
 * replays run on copies read at the start, with the event loop turning between them; on a
 * large book they take long, so one pre-flight runs at a time and another is refused
 * (`PREFLIGHT_BUSY`) rather than queued. `GET` lists the scenarios it can replay.
 */
function registerPreflight(app: FastifyInstance, context: ServiceContext): void {
  let running = false;

  app.get('/v1/config/preflight', { config: { roles: READERS } }, async () => ({ scenarios: BUNDLED_SCENARIOS }));

  app.post('/v1/config/preflight', { config: { roles: READERS }, schema: { body: schema.PREFLIGHT_BODY } }, async (request) => {
    const body = request.body as { config: Record<string, unknown>; scenarios?: string[] };
    // What POST /v1/config takes: the oracle section is the service's own, set at start-up.
    if (Object.hasOwn(body.config, 'oracle')) {
      throw rejectionError(
        { code: 'INVALID_CONFIG', field: 'oracle', message: 'the oracle section is set when the service starts (serve --config); POST /v1/config does not change it' },
        context.engine.ledger.state.config,
      );
    }
    if (running) throw new HttpError(503, 'PREFLIGHT_BUSY', 'another pre-flight is running; retry when it has answered');
    running = true;
    try {
      const report = await preflightReport({
        ledger: context.engine.ledger,
        proposedJson: body.config,
        ...(body.scenarios !== undefined && { scenarios: body.scenarios }),
        nowMs: context.clock(),
      });
      if (!report.ok) throw preflightError(context, report.error);
      return report.value;
    } finally {
      running = false;
    }
  });
}

/** As POST /v1/config would answer: `INVALID_CONFIG` naming the first field (with every issue), or the ledger's rejection. */
function preflightError(context: ServiceContext, error: PreflightError): HttpError {
  const config = context.engine.ledger.state.config;
  switch (error.code) {
    case 'INVALID_CONFIG': {
      const first = error.issues[0] ?? { field: '', message: 'invalid' };
      const failure = rejectionError({ code: 'INVALID_CONFIG', field: first.field, message: first.message }, config);
      return new HttpError(failure.statusCode, failure.code, failure.message, { ...failure.details, issues: error.issues });
    }
    case 'LEDGER_WOULD_REFUSE':
      return rejectionError(error.rejection, config);
  }
}

// ── Stream, health, metrics, docs ────────────────────────────────────────────────────────

function registerStream(app: FastifyInstance, context: ServiceContext): void {
  app.get('/v1/stream', { websocket: true, config: { roles: [...READERS, 'owner', 'oracle'], keyInQuery: true } }, (socket, request) => {
    if (!context.stream.add(socket, request.principal?.role === 'owner' ? request.principal.account : undefined)) {
      socket.close(1013, 'too many stream clients');
    }
  });
}

function registerOperations(app: FastifyInstance, context: ServiceContext): void {
  app.get('/healthz', async (_request, reply) => {
    const failure = context.engine.failed;
    const halted = context.engine.ledger.state.halted;
    const body = {
      status: failure === null && halted === null ? 'ok' : 'degraded',
      seq: context.engine.ledger.headSeq,
      ...(failure !== null && { storeFailure: failure.message }),
      ...(halted !== null && { halted }),
    };
    return reply.status(failure === null ? 200 : 503).send(body);
  });

  app.get('/metrics', async (_request, reply) => {
    refreshGauges(context);
    return reply.header('content-type', context.metrics.registry.contentType).send(await context.metrics.registry.metrics());
  });

  app.get('/docs', { schema: { hide: true } }, async () => app.swagger());
}

function refreshGauges(context: ServiceContext): void {
  const counts = context.monitor.counts();
  context.metrics.accounts.set({ status: 'healthy' }, counts.accounts - counts.warning - counts.liquidatable);
  context.metrics.accounts.set({ status: 'warning' }, counts.warning);
  context.metrics.accounts.set({ status: 'liquidatable' }, counts.liquidatable);
  context.metrics.insuranceFundUsd.set(Number(insuranceValueUsd(context) / WAD));
  context.metrics.headSeq.set(context.engine.ledger.headSeq);
  for (const status of context.oracle.status(context.clock())) {
    context.metrics.oracleHealthy.set({ asset: status.asset }, status.healthy ? 1 : 0);
  }
}

// ── Shared pieces ────────────────────────────────────────────────────────────────────────

async function submit(context: ServiceContext, command: Command): Promise<Outcome> {
  const result = await context.engine.submit(command);
  if (!result.ok) throw rejectionError(result.error, context.engine.ledger.state.config);
  if (!result.value.replayed) context.metrics.commands.inc({ kind: command.kind });
  return result.value;
}

function eventsResponse(outcome: Outcome): Record<string, unknown> {
  return {
    replayed: outcome.replayed,
    events: outcome.events.map((sealed) => ({ seq: sealed.seq, type: sealed.event.type, hash: sealed.hash })),
  };
}

function commandResponse(context: ServiceContext, outcome: Outcome, account: string): Record<string, unknown> {
  return { ...eventsResponse(outcome), account: committedAccountJson(context, account) };
}

/**
 * The account after a committed command. The command is durable by now, so the answer must
 * be a success whatever happens: an account that cannot be valued yet (a price missing) is
 * shown with its balances and the reason instead of its health.
 */
function committedAccountJson(context: ServiceContext, id: string): Record<string, unknown> {
  try {
    return accountJson(context, id);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    const state = context.engine.ledger.state;
    const record = state.accounts.get(id);
    return {
      id,
      balances: record === undefined ? {} : presentBalances(accountView(state, record), state.config),
      valuation: error.body().error,
    };
  }
}

/**
 * The `evaluate` shape of one account plus balances, positions, liquidation prices and
 * warning; kept in context.accountAnswers until an event changes it (account-answers.ts).
 */
export function accountJson(context: ServiceContext, id: string): Record<string, unknown> {
  const cached = context.accountAnswers.get(id);
  if (cached !== undefined) return cached;
  const state = context.engine.ledger.state;
  const record = state.accounts.get(id);
  if (record === undefined) throw rejectionError({ code: 'UNKNOWN_ACCOUNT', account: id }, state.config);
  const view = accountView(state, record);
  const health = explainAccount(view, state.prices, state.config);
  if (!health.ok) {
    throw new HttpError(409, 'PRICE_UNAVAILABLE', `account ${id} cannot be valued yet: ${health.error.code}`, { ...health.error });
  }
  const answer = {
    ...presentAccountRisk(view, health.value, liquidationPrices(view, state.prices, state.config), state.config),
    owner: record.owner,
    balances: presentBalances(view, state.config),
    perps: [...view.perps.values()].map((position) => {
      const base = state.config.markets.get(position.market)?.base ?? '';
      const rank = deleveragingRankOf(state, id, position.market);
      return {
        market: position.market,
        size: formatAmount(position.size, base, state.config),
        entryPrice: formatWad(position.entryPriceWad),
        deleveragingRank: rank,
      };
    }),
    auctions: [...state.auctions.values()].filter((auction) => auction.account === id).map((auction) => auction.id),
  };
  context.accountAnswers.remember(record, answer);
  return answer;
}

function liquidationJson(context: ServiceContext, record: LiquidationRecord): Record<string, unknown> {
  const config = context.engine.ledger.state.config;
  const done = record.completed;
  return {
    seq: record.seq,
    account: done.account,
    liquidator: done.liquidator,
    atMs: done.nowMs,
    bankrupt: done.bankrupt,
    targetReached: done.targetReached,
    target: done.target.kind === 'initial' ? { kind: 'initial' } : { kind: 'maintenanceRatio', ratio: formatWad(done.target.ratioWad) },
    prices: done.prices.map((price) => ({ asset: price.asset, price: formatWad(price.priceWad), confidence: formatWad(price.confidenceWad) })),
    healthBefore: { initial: presentLevel(done.healthBefore.initial), maintenance: presentLevel(done.healthBefore.maintenance) },
    healthAfter: { initial: presentLevel(done.healthAfter.initial), maintenance: presentLevel(done.healthAfter.maintenance) },
    penaltiesUsd: formatWad(done.penaltiesUsd),
    badDebtUsd: formatWad(done.badDebtUsd),
    steps: record.steps.map((event) => presentStep(event.step, config)),
    explanation: record.explanation,
  };
}

function presentStep(step: LiquidationRecord['steps'][number]['step'], config: ServiceContext['engine']['ledger']['state']['config']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(step)) {
    if (typeof value !== 'bigint') out[key] = value;
    else if (key.endsWith('Wad')) out[key.slice(0, -3)] = formatWad(value);
    else if (key.endsWith('Usd')) out[key] = formatWad(value);
    else out[key] = formatAmount(value, stepAsset(step, key, config.quote, config), config);
  }
  return out;
}

function stepAsset(
  step: LiquidationRecord['steps'][number]['step'],
  key: string,
  quote: string,
  config: ServiceContext['engine']['ledger']['state']['config'],
): string {
  switch (step.kind) {
    case 'perp':
      return key === 'size' ? (config.markets.get(step.market)?.base ?? quote) : quote;
    case 'deleverage':
      return config.markets.get(step.market)?.base ?? quote;
    case 'swap':
      return key === 'repaid' ? step.debtAsset : step.collateralAsset;
    case 'auction':
      return key === 'tab' ? step.debtAsset : step.collateralAsset;
    case 'insurance':
    case 'socialize':
      return step.asset;
  }
}

/** The insurance fund's worth at mid prices: the same valuation the liquidation planner uses. */
function insuranceValueUsd(context: ServiceContext): bigint {
  const state = context.engine.ledger.state;
  const fund = state.accounts.get(SYSTEM.insurance);
  return fund === undefined ? 0n : equityAtMid(accountView(state, fund), state.prices, state.config);
}

function systemBalances(context: ServiceContext, id: string): Record<string, string> {
  const state = context.engine.ledger.state;
  const record = state.accounts.get(id);
  return record === undefined ? {} : presentBalances(accountView(state, record), state.config);
}

function insuranceJson(context: ServiceContext): Record<string, unknown> {
  return {
    account: SYSTEM.insurance,
    balances: systemBalances(context, SYSTEM.insurance),
    valueUsd: formatWad(insuranceValueUsd(context)),
    backstop: systemBalances(context, SYSTEM.backstop),
  };
}

/** Would the ledger accept the first action as a real command now? Answered by decide itself. */
function ledgerCheck(context: ServiceContext, account: string, actions: readonly WhatIf[]): Record<string, unknown> | null {
  const first = actions[0];
  if (first === undefined || (first.kind !== 'withdraw' && first.kind !== 'borrow' && first.kind !== 'deposit')) return null;
  const state = context.engine.ledger.state;
  const decision = decide(state, {
    kind: first.kind === 'deposit' ? 'deposit' : 'withdraw',
    idempotencyKey: 'preview',
    account,
    asset: first.asset,
    amount: first.amount,
  });
  if (decision.ok) return { accepted: true };
  return { accepted: false, ...rejectionError(decision.error, state.config).body().error };
}

function parseWhatIf(context: ServiceContext, action: Record<string, string>, field: string): WhatIf {
  const kind = action.kind;
  if (kind === 'deposit' || kind === 'withdraw' || kind === 'borrow') {
    return { kind, asset: action.asset ?? '', amount: parseAmount(context, action.amount ?? '', action.asset ?? '', `${field}.amount`) };
  }
  if (kind === 'price') return { kind, asset: action.asset ?? '', priceWad: parseWad(action.price ?? '', `${field}.price`) };
  const market = context.engine.ledger.state.config.markets.get(action.market ?? '');
  if (market === undefined) throw invalidRequest(`${field}.market`, `unknown market "${action.market ?? ''}"`);
  return {
    kind: 'fill',
    market: market.id,
    size: parseAmount(context, action.size ?? '', market.base, `${field}.size`),
    priceWad: parseWad(action.price ?? '', `${field}.price`),
    feeRateWad: action.feeRate === undefined ? 0n : parseWad(action.feeRate, `${field}.feeRate`),
  };
}

function parseAmount(context: ServiceContext, text: string, asset: string, field: string): bigint {
  const config = context.engine.ledger.state.config.assets.get(asset);
  if (config === undefined) throw new HttpError(400, 'UNKNOWN_ASSET', `unknown asset "${asset}"`, { asset });
  const parsed = parseDecimal(text, config.decimals);
  if (!parsed.ok) throw invalidRequest(field, parsed.error.message);
  return parsed.value;
}

function parseWad(text: string, field: string): bigint {
  const parsed = parseDecimal(text, WAD_DECIMALS);
  if (!parsed.ok) throw invalidRequest(field, parsed.error.message);
  return parsed.value;
}
