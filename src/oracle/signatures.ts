/**
 * Attestations: prices produced elsewhere (another chain, another venue) and signed by their
 * publishers, verified here against configured keys before the price is taken.
 *
 * Two schemes, both through @noble/curves:
 * - `ed25519`: RFC 8032 signatures (strict encodings, not ZIP-215) over the message bytes;
 *   a publisher is its 32-byte public key, as 64 lowercase hex digits.
 * - `eip191`: Ethereum `personal_sign`, i.e. secp256k1 ECDSA over
 *   keccak256("\x19Ethereum Signed Message:\n" + byteLength + message); a publisher is the
 *   20-byte address recovered from the 65-byte signature r ‖ s ‖ v (v = 27 or 28), low-s only.
 *
 * The signed message is canonical (see `attestationMessage`): equal prices give equal
 * messages however the update spelled its decimals. It carries the asset and the timestamp,
 * so a signature cannot be moved to another asset, and per publisher and asset the timestamp
 * must strictly increase, so a signature cannot be played twice (SIGNATURE_REPLAYED).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { formatDecimal, WAD_DECIMALS } from '../core/fixed.ts';
import { err, ok, type Result } from '../core/result.ts';
import type { GuardFailure } from './guards.ts';

export type SignatureScheme = 'ed25519' | 'eip191';

/** One publisher's signature as an update carries it. */
export interface PublisherSignature {
  readonly scheme: SignatureScheme;
  /** ed25519: the public key, 64 hex digits; eip191: the 0x-prefixed address (any case). */
  readonly publisher: string;
  /** ed25519: 64 bytes as hex; eip191: 65 bytes r ‖ s ‖ v as 0x-prefixed hex. */
  readonly signature: string;
}

/** What a publisher attests. */
export interface AttestedPrice {
  readonly asset: string;
  readonly priceWad: bigint;
  readonly confidenceWad: bigint;
  readonly timestampMs: number;
}

/** Who must sign an asset's updates: at least `threshold` distinct configured publishers. */
export type AttestationPolicy =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'required';
      /** Lowercase hex public keys, no 0x. */
      readonly ed25519: readonly string[];
      /** Lowercase 0x addresses. */
      readonly eip191: readonly string[];
      readonly threshold: number;
    };

export const NO_ATTESTATION: AttestationPolicy = { kind: 'none' };

/** First line of every signed message: names the protocol and its version, so a signature made for anything else never verifies here. */
export const ATTESTATION_DOMAIN = 'collateral-engine oracle price v1';

/**
 * The canonical message, UTF-8, lines joined by "\n":
 *
 *   collateral-engine oracle price v1
 *   asset:ETH
 *   price:3000.12
 *   confidence:0.5
 *   timestampMs:1700000000000
 *
 * Decimals are formatted from their wads with trailing zeros dropped, so "3000.10" and
 * "3000.1" sign the same message.
 */
export function attestationMessage(price: AttestedPrice): string {
  return [
    ATTESTATION_DOMAIN,
    `asset:${price.asset}`,
    `price:${formatDecimal(price.priceWad, WAD_DECIMALS)}`,
    `confidence:${formatDecimal(price.confidenceWad, WAD_DECIMALS)}`,
    `timestampMs:${price.timestampMs}`,
  ].join('\n');
}

/** The key under which replay counters are kept: scheme and normalised publisher. */
export function publisherKey(scheme: SignatureScheme, publisher: string): string {
  return `${scheme}:${publisher}`;
}

// ---------------------------------------------------------------------------------------
// Keys and addresses.

const HEX = /^(0x)?([0-9a-fA-F]*)$/;

/** Hex digits (an optional 0x prefix) of exactly `bytes` bytes, or undefined. */
export function hexBytes(text: string, bytes: number): Uint8Array | undefined {
  const match = HEX.exec(text);
  const digits = match?.[2];
  if (digits === undefined || digits.length !== bytes * 2) return undefined;
  return hexToBytes(digits);
}

/** A configured ed25519 publisher: a 32-byte key that decodes to a curve point; lowercase hex, no 0x. */
export function normalizeEd25519PublicKey(text: string): string | undefined {
  const bytes = hexBytes(text, 32);
  if (bytes === undefined || !ed25519.utils.isValidPublicKey(bytes, false)) return undefined;
  return bytesToHex(bytes);
}

/**
 * A configured Ethereum address: 0x and 40 hex digits, lowercase in the result. A
 * mixed-case address must carry a valid EIP-55 checksum (it exists to catch typos).
 */
export function normalizeAddress(text: string): string | undefined {
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) return undefined;
  const lower = `0x${text.slice(2).toLowerCase()}`;
  const mixedCase = text.slice(2) !== text.slice(2).toLowerCase() && text.slice(2) !== text.slice(2).toUpperCase();
  if (mixedCase && checksumAddress(lower) !== text) return undefined;
  return lower;
}

/** EIP-55: a hex letter is upper case when the matching nibble of keccak256(lowercase hex) is ≥ 8. */
export function checksumAddress(address: string): string {
  const lower = address.slice(2).toLowerCase();
  const hash = bytesToHex(keccak_256(utf8ToBytes(lower)));
  let out = '0x';
  for (let i = 0; i < lower.length; i++) {
    const char = lower[i]!;
    out += Number.parseInt(hash[i]!, 16) >= 8 ? char.toUpperCase() : char;
  }
  return out;
}

/** The address of an uncompressed or compressed secp256k1 public key: last 20 bytes of keccak256(x ‖ y). */
export function addressOfPublicKey(publicKey: Uint8Array): string {
  const uncompressed = secp256k1.Point.fromBytes(publicKey).toBytes(false);
  return `0x${bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12))}`;
}

// ---------------------------------------------------------------------------------------
// EIP-191 personal_sign.

const EIP191_PREFIX = '\x19Ethereum Signed Message:\n';

/** keccak256("\x19Ethereum Signed Message:\n" + decimal byte length + message). */
export function personalMessageHash(message: Uint8Array): Uint8Array {
  return keccak_256(concatBytes(utf8ToBytes(`${EIP191_PREFIX}${message.length}`), message));
}

/**
 * The lowercase address that signed `message` (personal_sign), or undefined for a malformed,
 * high-s or unrecoverable signature. High-s is refused because it is the malleable twin of
 * a valid signature (Ethereum has refused it since Homestead).
 */
export function recoverEip191Address(message: Uint8Array, signatureHex: string): string | undefined {
  const bytes = hexBytes(signatureHex, 65);
  if (bytes === undefined) return undefined;
  const v = bytes[64]!;
  const recovery = v === 27 || v === 28 ? v - 27 : v === 0 || v === 1 ? v : undefined;
  if (recovery === undefined) return undefined;
  try {
    const signature = secp256k1.Signature.fromBytes(bytes.subarray(0, 64), 'compact').addRecoveryBit(recovery);
    if (signature.hasHighS()) return undefined;
    const point = signature.recoverPublicKey(personalMessageHash(message));
    return addressOfPublicKey(point.toBytes(false));
  } catch {
    return undefined;
  }
}

function verifyEd25519(message: Uint8Array, publicKeyHex: string, signatureHex: string): boolean {
  const signature = hexBytes(signatureHex, 64);
  const publicKey = hexBytes(publicKeyHex, 32);
  if (signature === undefined || publicKey === undefined) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------
// Verification: M of N, in check order.

/**
 * Checks an update's signatures against the asset's policy. Guards, in order, each over all
 * signatures: shape and known publisher (SIGNATURE_UNKNOWN_PUBLISHER), duplicates and
 * validity (SIGNATURE_INVALID), replay (SIGNATURE_REPLAYED), count (SIGNATURE_THRESHOLD_NOT_MET).
 * Any bad signature rejects the whole update: a bundle with a forged member is not trusted
 * for its good ones either. Returns the publisher keys that signed, for the replay counters.
 *
 * `lastTimestamps`: per publisher key, the timestamp of the last accepted update it signed
 * for this asset.
 */
export function verifyAttestation(input: {
  readonly price: AttestedPrice;
  readonly signatures: unknown;
  readonly policy: AttestationPolicy;
  readonly lastTimestamps: ReadonlyMap<string, number>;
}): Result<readonly string[], GuardFailure> {
  const { price, policy } = input;
  const signatures = input.signatures === undefined ? [] : input.signatures;
  if (!Array.isArray(signatures)) return err(invalid('signatures must be an array'));
  if (policy.kind === 'none') {
    if (signatures.length === 0) return ok([]);
    return err({ code: 'SIGNATURE_UNKNOWN_PUBLISHER', message: 'this asset has no configured publishers' });
  }

  const entries: { readonly scheme: SignatureScheme; readonly publisher: string; readonly signature: string }[] = [];
  for (const [index, value] of signatures.entries()) {
    const entry = readSignature(value);
    if (entry === undefined) return err(invalid(`signatures[${index}] must be { scheme: "ed25519" | "eip191", publisher, signature }`));
    const publisher = normalizePublisher(entry.scheme, entry.publisher);
    const allowed = entry.scheme === 'ed25519' ? policy.ed25519 : policy.eip191;
    if (publisher === undefined || !allowed.includes(publisher)) {
      return err({
        code: 'SIGNATURE_UNKNOWN_PUBLISHER',
        message: `signatures[${index}]: ${entry.scheme} publisher ${JSON.stringify(entry.publisher.slice(0, 80))} is not configured for ${price.asset}`,
      });
    }
    entries.push({ scheme: entry.scheme, publisher, signature: entry.signature });
  }

  const message = utf8ToBytes(attestationMessage(price));
  const seen = new Set<string>();
  for (const [index, entry] of entries.entries()) {
    const key = publisherKey(entry.scheme, entry.publisher);
    if (seen.has(key)) return err(invalid(`signatures[${index}]: publisher ${entry.publisher} signed twice`));
    seen.add(key);
    const valid =
      entry.scheme === 'ed25519'
        ? verifyEd25519(message, entry.publisher, entry.signature)
        : recoverEip191Address(message, entry.signature) === entry.publisher;
    if (!valid) return err(invalid(`signatures[${index}]: not a valid ${entry.scheme} signature of this price by ${entry.publisher}`));
  }

  for (const entry of entries) {
    const last = input.lastTimestamps.get(publisherKey(entry.scheme, entry.publisher));
    if (last !== undefined && price.timestampMs <= last) {
      return err({
        code: 'SIGNATURE_REPLAYED',
        message: `publisher ${entry.publisher} already signed ${price.asset} at ${last}; timestamps must increase`,
      });
    }
  }

  if (entries.length < policy.threshold) {
    return err({
      code: 'SIGNATURE_THRESHOLD_NOT_MET',
      message: `${entries.length} valid signature(s), ${policy.threshold} required`,
    });
  }
  return ok(entries.map((entry) => publisherKey(entry.scheme, entry.publisher)));
}

function invalid(message: string): GuardFailure {
  return { code: 'SIGNATURE_INVALID', message };
}

function readSignature(value: unknown): PublisherSignature | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const { scheme, publisher, signature } = record;
  if (scheme !== 'ed25519' && scheme !== 'eip191') return undefined;
  if (typeof publisher !== 'string' || typeof signature !== 'string') return undefined;
  return { scheme, publisher, signature };
}

function normalizePublisher(scheme: SignatureScheme, publisher: string): string | undefined {
  if (scheme === 'eip191') return /^0x[0-9a-fA-F]{40}$/.test(publisher) ? publisher.toLowerCase() : undefined;
  const bytes = hexBytes(publisher, 32);
  return bytes === undefined ? undefined : bytesToHex(bytes);
}

// ---------------------------------------------------------------------------------------
// Signing (tests, the demo, and publishers written in TypeScript).

/** The ed25519 publisher id (public key hex) of a 32-byte secret key. */
export function ed25519Publisher(secretKey: Uint8Array): string {
  return bytesToHex(ed25519.getPublicKey(secretKey));
}

/** The Ethereum address (lowercase) of a 32-byte secp256k1 secret key. */
export function eip191Publisher(secretKey: Uint8Array): string {
  return addressOfPublicKey(secp256k1.getPublicKey(secretKey, false));
}

export function signEd25519(price: AttestedPrice, secretKey: Uint8Array): PublisherSignature {
  const signature = ed25519.sign(utf8ToBytes(attestationMessage(price)), secretKey);
  return { scheme: 'ed25519', publisher: ed25519Publisher(secretKey), signature: bytesToHex(signature) };
}

/** personal_sign of the canonical message: deterministic (RFC 6979), low-s, v = 27 or 28. */
export function signEip191(price: AttestedPrice, secretKey: Uint8Array): PublisherSignature {
  return {
    scheme: 'eip191',
    publisher: eip191Publisher(secretKey),
    signature: personalSign(utf8ToBytes(attestationMessage(price)), secretKey),
  };
}

/** Ethereum personal_sign of raw message bytes: 0x ‖ r ‖ s ‖ v. */
export function personalSign(message: Uint8Array, secretKey: Uint8Array): string {
  const recovered = secp256k1.sign(personalMessageHash(message), secretKey, { prehash: false, format: 'recovered' });
  // noble's "recovered" layout is recovery ‖ r ‖ s; Ethereum's is r ‖ s ‖ (27 + recovery).
  const rs = recovered.subarray(1);
  return `0x${bytesToHex(rs)}${(27 + recovered[0]!).toString(16)}`;
}
