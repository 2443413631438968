import { createHmac } from 'node:crypto';
import type { Buffer } from 'node:buffer';

/**
 * The fixed label every adapter MACs to fingerprint a key. Changing it changes every fingerprint
 * already recorded in events, so it carries a version.
 */
export const KEY_CHECK_VALUE_LABEL = 'keyledger/key-check-value/v1';

/**
 * Key check value: the first 16 bytes of HMAC-SHA-256(key, label), hex. An HMAC rather than the
 * classic "encrypt zeros" KCV so the value reveals nothing usable as a known plaintext/ciphertext
 * pair for the key itself.
 */
export function keyCheckValue(key: Buffer): string {
  return createHmac('sha256', key).update(KEY_CHECK_VALUE_LABEL).digest().subarray(0, 16).toString('hex');
}
