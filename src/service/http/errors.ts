/**
 * Errors as the API shows them: `{ "error": { "code", "message", …details } }`. Ledger
 * rejections keep their codes and numbers; the service adds its own few codes. Every code is
 * in docs/ERRORS.md (a test keeps them in step).
 */
import type { RiskConfig } from '../../core/config.ts';
import { formatWad } from '../../core/fixed.ts';
import type { Rejection, RejectionCode } from '../../core/ledger/rejections.ts';
import { formatAmount, presentLevel } from '../../core/present.ts';

/** Codes the service itself answers with, besides ledger rejections. */
export const SERVICE_ERROR_CODES = [
  'INVALID_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'PRICE_REJECTED',
  'CONFIG_WOULD_LIQUIDATE',
  'PREFLIGHT_BUSY',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export type ServiceErrorCode = (typeof SERVICE_ERROR_CODES)[number];

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ServiceErrorCode | RejectionCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

export function invalidRequest(field: string, message: string): HttpError {
  return new HttpError(400, 'INVALID_REQUEST', `${field}: ${message}`, { field });
}

const STATUS: Readonly<Record<RejectionCode, number>> = {
  INVALID_COMMAND: 400,
  INVALID_CONFIG: 400,
  CONFIG_INCOMPATIBLE: 422,
  LEDGER_HALTED: 503,
  IDEMPOTENCY_CONFLICT: 409,
  UNKNOWN_ACCOUNT: 404,
  SYSTEM_ACCOUNT: 403,
  UNKNOWN_ASSET: 400,
  UNKNOWN_MARKET: 400,
  NOT_SAME_OWNER: 403,
  SELF_TRADE: 422,
  ASSET_NOT_COLLATERAL: 422,
  NOT_BORROWABLE: 422,
  CAP_EXCEEDED: 422,
  PRICE_UNAVAILABLE: 409,
  PRICE_UNHEALTHY: 409,
  TIME_WENT_BACKWARDS: 422,
  SELF_LIQUIDATION: 403,
  NOT_LIQUIDATABLE: 422,
  LIQUIDATION_CAPPED: 429,
  LIQUIDATION_INEFFECTIVE: 422,
  AUCTION_IN_PROGRESS: 409,
  UNKNOWN_AUCTION: 404,
  AUCTION_STALE: 409,
  AUCTION_NOT_STALE: 409,
  AUCTION_PRICE_ABOVE_LIMIT: 422,
  ZERO_BID: 422,
  LIQUIDATOR_INSUFFICIENT_MARGIN: 422,
  INSUFFICIENT_MARGIN: 422,
};

/** A ledger rejection as an HTTP error, its numbers as decimal strings. */
export function rejectionError(rejection: Rejection, config: RiskConfig): HttpError {
  const { code, ...fields } = rejection;
  const details: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) details[key] = presentField(key, value, rejection, config);
  return new HttpError(STATUS[code], code, rejectionMessage(rejection), details);
}

function presentField(key: string, value: unknown, rejection: Rejection, config: RiskConfig): unknown {
  if (key === 'healthBefore' || key === 'healthAfter' || key === 'maintenance') {
    return presentLevel(value as Parameters<typeof presentLevel>[0]);
  }
  if (typeof value !== 'bigint') return value;
  if (key === 'priceWad') return formatWad(value);
  const asset = 'asset' in rejection ? rejection.asset : config.quote;
  return formatAmount(value, asset, config);
}

function rejectionMessage(rejection: Rejection): string {
  switch (rejection.code) {
    case 'INSUFFICIENT_MARGIN':
      return `initial health of ${rejection.account} would fall below zero`;
    case 'IDEMPOTENCY_CONFLICT':
      return `idempotency key already used by a command with a different ${rejection.field}`;
    case 'INVALID_COMMAND':
    case 'INVALID_CONFIG':
    case 'CONFIG_INCOMPATIBLE':
      return `${rejection.field}: ${rejection.message}`;
    default:
      return rejection.code.toLowerCase().replaceAll('_', ' ');
  }
}
