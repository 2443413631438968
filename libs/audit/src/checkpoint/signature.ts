import { verifyEd25519, type TrustedKeys } from '../signer/ed25519.js';
import { signedHeadBytes, type SignedCheckpoint } from './checkpoint.js';

export type SignatureCheck = 'valid' | 'untrusted-key' | 'bad-signature';

/** A checkpoint counts only when a trusted key made its signature over exactly this head. */
export function checkSignature({ head, signature }: SignedCheckpoint, trusted: TrustedKeys): SignatureCheck {
  const publicKey = trusted.keyObject(head.keyId);
  if (!publicKey) return 'untrusted-key';
  return verifyEd25519(publicKey, signedHeadBytes(head), Buffer.from(signature, 'base64')) ? 'valid' : 'bad-signature';
}
