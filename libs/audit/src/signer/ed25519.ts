import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { sha256, toHex } from '../hashes.js';

/** Ed25519 public keys travel raw (32 bytes); this DER prefix makes them SubjectPublicKeyInfo (RFC 8410). */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/** A signing key's identifier: SHA-256 of its raw 32-byte public key, hex. */
export const keyIdOf = (publicKey: Buffer): string => toHex(sha256(publicKey));

export function publicKeyObject(raw: Buffer): KeyObject {
  if (raw.length !== ED25519_PUBLIC_KEY_BYTES) throw new TypeError(`An Ed25519 public key has 32 bytes, not ${raw.length}`);
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export const rawPublicKey = (key: KeyObject): Buffer => key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);

export const publicKeyPem = (raw: Buffer): string => publicKeyObject(raw).export({ format: 'pem', type: 'spki' }).toString();

/** The raw key of an Ed25519 public key in PEM (SubjectPublicKeyInfo); other keys are refused. */
export function rawPublicKeyFromPem(pem: string): Buffer {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`Expected an Ed25519 public key, got ${key.asymmetricKeyType ?? 'an unknown key'}`);
  return rawPublicKey(key);
}

/** Ed25519 (RFC 8032) verification; malformed inputs are a failed verification, never an exception. */
export function verifyEd25519(publicKey: Buffer | KeyObject, message: Buffer, signature: Buffer): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return verify(null, message, Buffer.isBuffer(publicKey) ? publicKeyObject(publicKey) : publicKey, signature);
  } catch {
    return false;
  }
}

/** The public keys a verifier accepts checkpoints from, by key id. */
export class TrustedKeys {
  private readonly byId = new Map<string, Buffer>();
  /** Parsed once: building a KeyObject costs more than checking a signature with it. */
  private readonly objects = new Map<string, KeyObject>();

  constructor(publicKeys: readonly Buffer[]) {
    for (const key of publicKeys) this.byId.set(keyIdOf(key), key);
  }

  keyObject(keyId: string): KeyObject | undefined {
    const raw = this.byId.get(keyId);
    if (!raw) return undefined;
    if (!this.objects.has(keyId)) this.objects.set(keyId, publicKeyObject(raw));
    return this.objects.get(keyId);
  }

  get keyIds(): string[] {
    return [...this.byId.keys()];
  }

  get size(): number {
    return this.byId.size;
  }

  get(keyId: string): Buffer | undefined {
    return this.byId.get(keyId);
  }
}
