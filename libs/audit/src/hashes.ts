import { createHash } from 'node:crypto';

/** Every hash of the audit scheme is SHA-256; values travel as lowercase hex. */
export const HASH_BYTES = 32;

export function sha256(...parts: readonly Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

const HEX_HASH = /^[0-9a-f]{64}$/;

/** Parses a 64-digit lowercase hex hash; anything else is refused rather than guessed at. */
export function fromHex(hex: string): Buffer {
  if (!HEX_HASH.test(hex)) throw new TypeError(`Not a SHA-256 hash in lowercase hex: ${JSON.stringify(hex).slice(0, 80)}`);
  return Buffer.from(hex, 'hex');
}

export const isHexHash = (value: unknown): value is string => typeof value === 'string' && HEX_HASH.test(value);
