import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  attestationMessage,
  checksumAddress,
  ed25519Publisher,
  eip191Publisher,
  normalizeAddress,
  personalSign,
  publisherKey,
  recoverEip191Address,
  signEd25519,
  signEip191,
  verifyAttestation,
  type AttestationPolicy,
  type AttestedPrice,
  type PublisherSignature,
} from './signatures.ts';
import { T0, testKey, wad } from './testing.ts';

describe('known vectors', () => {
  it('EIP-191 personal_sign: the Hardhat/Anvil account #0 signing "hello world" (viem’s documented output)', () => {
    const secret = hexToBytes('ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
    const signature = personalSign(utf8ToBytes('hello world'), secret);
    expect(signature).toBe(
      '0xa461f509887bd19e312c0c58467ce8ff8e300d3c1a90b608a760c5b80318eaf15fe57c96f9175d6cd4daad4663763baa7e78836e067d0163e9a2ccf2ff753f5b1b',
    );
    expect(checksumAddress(eip191Publisher(secret))).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    expect(recoverEip191Address(utf8ToBytes('hello world'), signature)).toBe('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266');
  });

  it('ed25519: RFC 8032 test 1 (empty message)', () => {
    const secret = hexToBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    expect(ed25519Publisher(secret)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(bytesToHex(ed25519.sign(new Uint8Array(0), secret))).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });

  it('EIP-55 checksums (the EIP’s own examples)', () => {
    for (const address of [
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
      '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
      '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    ]) {
      expect(checksumAddress(address.toLowerCase())).toBe(address);
      expect(normalizeAddress(address)).toBe(address.toLowerCase());
    }
    expect(normalizeAddress('0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD')).toBeUndefined(); // one letter's case flipped
  });
});

describe('attestationMessage', () => {
  it('is canonical: the same price however its decimals were spelled', () => {
    const price: AttestedPrice = { asset: 'ETH', priceWad: wad('3000.10'), confidenceWad: wad('0.50'), timestampMs: T0 };
    expect(attestationMessage(price)).toBe(
      ['collateral-engine oracle price v1', 'asset:ETH', 'price:3000.1', 'confidence:0.5', `timestampMs:${T0}`].join('\n'),
    );
    expect(attestationMessage({ ...price, confidenceWad: 0n })).toContain('\nconfidence:0\n');
  });
});

// ---------------------------------------------------------------------------------------

const ED_A = testKey(1);
const ED_B = testKey(2);
const EVM_C = testKey(3);
const STRANGER = testKey(9);
const POLICY: AttestationPolicy = {
  kind: 'required',
  ed25519: [ed25519Publisher(ED_A), ed25519Publisher(ED_B)],
  eip191: [eip191Publisher(EVM_C)],
  threshold: 2,
};
const PRICE: AttestedPrice = { asset: 'ETH', priceWad: wad('3000.12'), confidenceWad: wad('1.5'), timestampMs: T0 };

function verify(signatures: unknown, options: { price?: AttestedPrice; lastTimestamps?: ReadonlyMap<string, number>; policy?: AttestationPolicy } = {}) {
  return verifyAttestation({
    price: options.price ?? PRICE,
    signatures,
    policy: options.policy ?? POLICY,
    lastTimestamps: options.lastTimestamps ?? new Map(),
  });
}

const codeOf = (result: ReturnType<typeof verify>) => (result.ok ? 'OK' : result.error.code);

describe('verifyAttestation: M of N', () => {
  it.each([
    ['two ed25519 publishers', [signEd25519(PRICE, ED_A), signEd25519(PRICE, ED_B)]],
    ['one ed25519 and one EIP-191 publisher', [signEd25519(PRICE, ED_A), signEip191(PRICE, EVM_C)]],
    ['all three', [signEd25519(PRICE, ED_A), signEd25519(PRICE, ED_B), signEip191(PRICE, EVM_C)]],
  ])('accepts %s', (_name, signatures) => {
    const result = verify(signatures);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value).toHaveLength(signatures.length);
  });

  it('returns the publisher keys that signed, for the replay counters', () => {
    expect(verify([signEd25519(PRICE, ED_A), signEip191(PRICE, EVM_C)])).toEqual({
      ok: true,
      value: [publisherKey('ed25519', ed25519Publisher(ED_A)), publisherKey('eip191', eip191Publisher(EVM_C))],
    });
  });

  it('accepts a checksummed or uppercase publisher address in the update', () => {
    const signature = signEip191(PRICE, EVM_C);
    const checksummed = { ...signature, publisher: checksumAddress(signature.publisher) };
    expect(codeOf(verify([signEd25519(PRICE, ED_A), checksummed]))).toBe('OK');
  });

  const tampered = (signature: PublisherSignature, change: Partial<PublisherSignature>): PublisherSignature => ({ ...signature, ...change });
  const flipLastHexDigit = (hex: string) => hex.slice(0, -1) + (hex.endsWith('0') ? '1' : '0');

  it.each([
    ['one signature of two required', [signEd25519(PRICE, ED_A)], 'SIGNATURE_THRESHOLD_NOT_MET'],
    ['no signatures', [], 'SIGNATURE_THRESHOLD_NOT_MET'],
    ['absent signatures', undefined, 'SIGNATURE_THRESHOLD_NOT_MET'],
    ['a wrong key: a stranger’s own ed25519 key', [signEd25519(PRICE, ED_A), signEd25519(PRICE, STRANGER)], 'SIGNATURE_UNKNOWN_PUBLISHER'],
    ['a wrong key: a stranger’s EIP-191 address', [signEd25519(PRICE, ED_A), signEip191(PRICE, STRANGER)], 'SIGNATURE_UNKNOWN_PUBLISHER'],
    [
      'a wrong key claiming a configured ed25519 publisher',
      [signEd25519(PRICE, ED_A), tampered(signEd25519(PRICE, STRANGER), { publisher: ed25519Publisher(ED_B) })],
      'SIGNATURE_INVALID',
    ],
    [
      'a wrong key claiming a configured address',
      [signEd25519(PRICE, ED_A), tampered(signEip191(PRICE, STRANGER), { publisher: eip191Publisher(EVM_C) })],
      'SIGNATURE_INVALID',
    ],
    [
      'a tampered price (ed25519)',
      [signEd25519({ ...PRICE, priceWad: wad('3100') }, ED_A), signEd25519(PRICE, ED_B)],
      'SIGNATURE_INVALID',
    ],
    [
      'a tampered price (EIP-191)',
      [signEd25519(PRICE, ED_A), signEip191({ ...PRICE, priceWad: wad('3100') }, EVM_C)],
      'SIGNATURE_INVALID',
    ],
    ['a tampered confidence', [signEd25519({ ...PRICE, confidenceWad: 0n }, ED_A), signEd25519(PRICE, ED_B)], 'SIGNATURE_INVALID'],
    ['a signature for another asset', [signEd25519({ ...PRICE, asset: 'BTC' }, ED_A), signEd25519(PRICE, ED_B)], 'SIGNATURE_INVALID'],
    ['a signature for another time', [signEd25519({ ...PRICE, timestampMs: T0 - 1 }, ED_A), signEd25519(PRICE, ED_B)], 'SIGNATURE_INVALID'],
    [
      'a corrupted ed25519 signature',
      [tampered(signEd25519(PRICE, ED_A), { signature: flipLastHexDigit(signEd25519(PRICE, ED_A).signature) }), signEd25519(PRICE, ED_B)],
      'SIGNATURE_INVALID',
    ],
    ['a truncated signature', [tampered(signEd25519(PRICE, ED_A), { signature: 'abcd' }), signEd25519(PRICE, ED_B)], 'SIGNATURE_INVALID'],
    ['the same publisher twice (counts once at most)', [signEd25519(PRICE, ED_A), signEd25519(PRICE, ED_A)], 'SIGNATURE_INVALID'],
    ['an unknown scheme', [{ scheme: 'rsa', publisher: 'x', signature: 'y' }], 'SIGNATURE_INVALID'],
    ['signatures not an array', 'deadbeef', 'SIGNATURE_INVALID'],
    ['an entry that is not an object', [42], 'SIGNATURE_INVALID'],
  ])('rejects %s: %s', (_name, signatures, code) => {
    expect(codeOf(verify(signatures))).toBe(code);
  });

  it('rejects a high-s EIP-191 signature (the malleable twin of a valid one)', () => {
    const message = utf8ToBytes(attestationMessage(PRICE));
    const low = signEip191(PRICE, EVM_C).signature;
    const bytes = hexToBytes(low.slice(2));
    const s = BigInt(`0x${bytesToHex(bytes.subarray(32, 64))}`);
    const highS = secp256k1.Point.CURVE().n - s;
    const v = bytes[64] === 27 ? 28 : 27; // negating s flips the recovery parity
    const high = `0x${bytesToHex(bytes.subarray(0, 32))}${highS.toString(16).padStart(64, '0')}${v.toString(16)}`;
    expect(recoverEip191Address(message, low)).toBe(eip191Publisher(EVM_C));
    expect(recoverEip191Address(message, high)).toBeUndefined();
  });

  it('rejects a replay: a publisher’s timestamp must increase', () => {
    const signatures = [signEd25519(PRICE, ED_A), signEd25519(PRICE, ED_B)];
    const seen = new Map([[publisherKey('ed25519', ed25519Publisher(ED_A)), T0]]);
    expect(codeOf(verify(signatures, { lastTimestamps: seen }))).toBe('SIGNATURE_REPLAYED');
    const earlier = new Map([[publisherKey('ed25519', ed25519Publisher(ED_A)), T0 - 1]]);
    expect(codeOf(verify(signatures, { lastTimestamps: earlier }))).toBe('OK');
  });

  it('an asset without publishers takes no signatures, and needs none', () => {
    expect(codeOf(verify(undefined, { policy: { kind: 'none' } }))).toBe('OK');
    expect(codeOf(verify([], { policy: { kind: 'none' } }))).toBe('OK');
    expect(codeOf(verify([signEd25519(PRICE, ED_A)], { policy: { kind: 'none' } }))).toBe('SIGNATURE_UNKNOWN_PUBLISHER');
  });

  it('checks in code order: an unknown publisher is reported before an invalid signature', () => {
    const invalid = tampered(signEd25519(PRICE, ED_A), { signature: '00'.repeat(64) });
    expect(codeOf(verify([invalid, signEd25519(PRICE, STRANGER)]))).toBe('SIGNATURE_UNKNOWN_PUBLISHER');
  });
});
