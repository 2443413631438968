import { createPublicKey, type KeyObject } from 'node:crypto';
import { InvalidRecipientKeyError } from './port.js';

/** NIST SP 800-131A: RSA below 2048 bits is disallowed for key transport. */
export const MIN_RECIPIENT_RSA_BITS = 2048;

/**
 * Parses a recipient's transport key and refuses anything RSA-OAEP-256 cannot safely wrap for.
 * Shared by every adapter so that they all refuse the same keys with the same error.
 */
export function parseRecipientPublicKey(publicKeyPem: string): KeyObject {
  const key = parsePem(publicKeyPem);
  if (key.asymmetricKeyType !== 'rsa') {
    throw new InvalidRecipientKeyError(`expected an RSA key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RECIPIENT_RSA_BITS) {
    throw new InvalidRecipientKeyError(`RSA key of ${bits} bits, at least ${MIN_RECIPIENT_RSA_BITS} required`);
  }
  return key;
}

function parsePem(publicKeyPem: string): KeyObject {
  if (!publicKeyPem.includes('PUBLIC KEY-----')) {
    // createPublicKey would also derive a public key from a private PEM; a caller sending a
    // private key here has made a mistake we should not quietly absorb.
    throw new InvalidRecipientKeyError('expected a PEM-encoded public key');
  }
  try {
    return createPublicKey({ key: publicKeyPem, format: 'pem' });
  } catch {
    throw new InvalidRecipientKeyError('the PEM could not be parsed as a public key');
  }
}
