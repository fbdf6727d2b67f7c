/**
 * JSON schemas of the API's bodies and parameters. Unknown fields are rejected, amounts and
 * prices are canonical decimal strings (never JSON numbers), ids follow the id grammar.
 */
import { BUNDLED_SCENARIOS } from '../../oracle/feeds/playback.ts';

export const DECIMAL = { type: 'string', pattern: '^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$', maxLength: 80 } as const;
export const POSITIVE_DECIMAL = { type: 'string', pattern: '^(0|[1-9][0-9]*)(\\.[0-9]+)?$', maxLength: 80 } as const;
export const ID = { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' } as const;
export const KEY = { type: 'string', minLength: 1, maxLength: 128 } as const;
export const TIMESTAMP = { type: 'integer', minimum: 0, maximum: 8_640_000_000_000_000 } as const;

function object(properties: Record<string, unknown>, required: readonly string[]) {
  return { type: 'object', additionalProperties: false, properties, required } as const;
}

export const ACCOUNT_PARAMS = object({ id: ID }, ['id']);

export const TRANSFER_BODY = object(
  { asset: ID, amount: POSITIVE_DECIMAL, idempotencyKey: KEY, owner: ID },
  ['asset', 'amount', 'idempotencyKey'],
);

export const TRADE_BODY = object(
  {
    market: ID,
    price: POSITIVE_DECIMAL,
    size: POSITIVE_DECIMAL,
    buyer: ID,
    seller: ID,
    buyerFeeRate: POSITIVE_DECIMAL,
    sellerFeeRate: POSITIVE_DECIMAL,
    idempotencyKey: KEY,
  },
  ['market', 'price', 'size', 'buyer', 'seller', 'idempotencyKey'],
);

export const PRICES_BODY = object(
  {
    prices: {
      type: 'array',
      minItems: 1,
      maxItems: 256,
      items: object(
        { asset: ID, price: POSITIVE_DECIMAL, confidence: POSITIVE_DECIMAL, timestamp: TIMESTAMP },
        ['asset', 'price', 'timestamp'],
      ),
    },
    signatures: {
      type: 'array',
      maxItems: 256,
      items: object(
        {
          asset: ID,
          scheme: { type: 'string', enum: ['ed25519', 'eip191'] },
          publisher: { type: 'string', maxLength: 200 },
          signature: { type: 'string', maxLength: 300 },
        },
        ['asset', 'scheme', 'publisher', 'signature'],
      ),
    },
  },
  ['prices'],
);

const WHAT_IF = {
  oneOf: [
    object({ kind: { const: 'deposit' }, asset: ID, amount: POSITIVE_DECIMAL }, ['kind', 'asset', 'amount']),
    object({ kind: { const: 'withdraw' }, asset: ID, amount: POSITIVE_DECIMAL }, ['kind', 'asset', 'amount']),
    object({ kind: { const: 'borrow' }, asset: ID, amount: POSITIVE_DECIMAL }, ['kind', 'asset', 'amount']),
    object(
      { kind: { const: 'fill' }, market: ID, size: DECIMAL, price: POSITIVE_DECIMAL, feeRate: POSITIVE_DECIMAL },
      ['kind', 'market', 'size', 'price'],
    ),
    object({ kind: { const: 'price' }, asset: ID, price: POSITIVE_DECIMAL }, ['kind', 'asset', 'price']),
  ],
} as const;

export const PREVIEW_BODY = object({ actions: { type: 'array', minItems: 1, maxItems: 16, items: WHAT_IF } }, ['actions']);

export const LIQUIDATION_BODY = object(
  { account: ID, idempotencyKey: KEY, maxNotionalUsd: POSITIVE_DECIMAL, liquidator: ID },
  ['account', 'idempotencyKey'],
);

export const BID_BODY = object(
  { auctionId: ID, amount: POSITIVE_DECIMAL, maxPrice: POSITIVE_DECIMAL, idempotencyKey: KEY },
  ['auctionId', 'amount', 'maxPrice', 'idempotencyKey'],
);

/** `force`: apply even if accounts become liquidatable at once (the key id is recorded). */
export const CONFIG_BODY = object(
  { config: { type: 'object' }, idempotencyKey: KEY, force: { type: 'boolean' } },
  ['config', 'idempotencyKey'],
);

/**
 * A pre-flight of `config` (what POST /v1/config would take). `scenarios`: built-in ones by
 * name only (never a path: the service reads no file a request names); absent: all of them;
 * empty: the at-once judgement alone.
 */
export const PREFLIGHT_BODY = object(
  {
    config: { type: 'object' },
    scenarios: { type: 'array', maxItems: BUNDLED_SCENARIOS.length, uniqueItems: true, items: { type: 'string', enum: [...BUNDLED_SCENARIOS] } },
  },
  ['config'],
);

/** Query strings are strings: counts are digits, read by the handler (no type coercion anywhere). */
const COUNT = { type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$' } as const;

export const RISK_QUERY = object({ status: { type: 'string', enum: ['liquidatable', 'warning'] }, limit: COUNT }, [
  'status',
]);

export const PAGE_QUERY = object({ after: COUNT, before: COUNT, limit: COUNT, account: ID }, []);
