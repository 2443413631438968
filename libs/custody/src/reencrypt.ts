import type { Buffer } from 'node:buffer';
import type { KeyCustodian, SealingKey } from './port.js';

/**
 * `reencrypt` for custodians without a native re-encryption: open, seal, and zero the plaintext
 * before returning, so that it never leaves the custodian.
 */
export async function reencryptThroughMemory(
  custodian: Pick<KeyCustodian, 'encrypt' | 'decrypt'>,
  ciphertext: Buffer,
  from: SealingKey,
  to: SealingKey,
): Promise<Buffer> {
  const plaintext = await custodian.decrypt(from.materialRef, ciphertext, from.aad);
  try {
    return await custodian.encrypt(to.materialRef, plaintext, to.aad);
  } finally {
    plaintext.fill(0);
  }
}
