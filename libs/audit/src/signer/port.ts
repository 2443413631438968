/**
 * The checkpoint signer port: an Ed25519 key that signs checkpoint heads. The software adapter
 * keeps the private key in a file of the data directory; an HSM adapter (PKCS#11 CKM_EDDSA) would
 * keep it in the token, non-extractable. Either way only the public key leaves the signer.
 */
export interface CheckpointSigner {
  readonly algorithm: 'Ed25519';
  /** The raw 32-byte public key. */
  readonly publicKey: Buffer;
  /** SHA-256 of the raw public key, hex: named in every checkpoint it signs. */
  readonly keyId: string;
  /** A human label for logs and health, e.g. where the key lives. */
  readonly label: string;
  sign(message: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

export class SigningKeyError extends Error {
  readonly code = 'AUDIT.SIGNING_KEY_UNUSABLE' as const;
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyError';
  }
}
