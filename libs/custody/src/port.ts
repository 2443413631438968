/**
 * The key custody port. The custodian holds key material (HSM object, KMS key, or the software
 * key-material store) and never hands it to the event log. Every adapter runs the shared
 * contract suite in `contract.ts`.
 *
 * A `materialRef` is an opaque handle chosen by the custodian; it is safe to record in events.
 */
import type { Buffer } from 'node:buffer';

export type CustodianKind = 'software' | 'pkcs11' | 'aws-kms';
export type ManagedKeyPurpose = 'root' | 'kek' | 'dek';

export interface GenerateKeyRequest {
  readonly keyId: string;
  readonly version: number;
  readonly tenantId: string;
  readonly purpose: ManagedKeyPurpose;
  /** The material that wraps the new key at rest (its parent's version), when it has a parent. */
  readonly wrappingRef: string | null;
}

export interface GeneratedKey {
  readonly materialRef: string;
  /** Key check value (HMAC-SHA-256 of a fixed label under the key, first 16 bytes, hex). */
  readonly fingerprint: string;
}

export interface CustodyEvidence {
  readonly custodian: CustodianKind;
  readonly materialRef: string;
  readonly method: string;
  readonly verifiedAbsent: boolean;
  /** What was checked to prove absence, in words a reviewer can repeat. */
  readonly verification: string;
}

export interface CustodianHealth {
  readonly custodian: CustodianKind;
  readonly fipsValidated: boolean;
  readonly label: string;
}

/** The little an adapter logs (opening, creation, erasure: never material). Nest's Logger fits. */
export interface CustodyLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface KeyCustodian {
  readonly kind: CustodianKind;
  health(): CustodianHealth;
  generateKey(request: GenerateKeyRequest): Promise<GeneratedKey>;
  /** Wraps the material of `materialRef` for a recipient's RSA public key (RSA-OAEP with SHA-256). */
  wrapForRecipient(materialRef: string, recipientPublicKeyPem: string): Promise<Buffer>;
  /** AES-256-GCM under the key of `materialRef`, `aad` bound as associated data. */
  encrypt(materialRef: string, plaintext: Buffer, aad: Buffer): Promise<Buffer>;
  decrypt(materialRef: string, ciphertext: Buffer, aad: Buffer): Promise<Buffer>;
  /** Erases the material, then checks that it is gone. Idempotent: a second call still verifies. */
  destroy(materialRef: string): Promise<CustodyEvidence>;
  /** True when the custodian still holds material for this handle. */
  exists(materialRef: string): Promise<boolean>;
  close(): Promise<void>;
}

export class MaterialNotFoundError extends Error {
  readonly code = 'CUSTODY.MATERIAL_NOT_FOUND' as const;
  constructor(readonly materialRef: string) {
    super(`No key material for ${materialRef}`);
    this.name = 'MaterialNotFoundError';
  }
}

/** Decryption failed authentication: wrong key, wrong associated data, or altered ciphertext. */
export class DecryptionFailedError extends Error {
  readonly code = 'CUSTODY.DECRYPTION_FAILED' as const;
  constructor(readonly materialRef: string) {
    super(
      `Decryption with ${materialRef} failed: wrong key, wrong associated data or altered ciphertext`,
    );
    this.name = 'DecryptionFailedError';
  }
}

/** The recipient's transport key cannot carry key material safely (not RSA, or under 2048 bits). */
export class InvalidRecipientKeyError extends Error {
  readonly code = 'CUSTODY.INVALID_RECIPIENT_KEY' as const;
  constructor(reason: string) {
    super(`Invalid recipient public key: ${reason}`);
    this.name = 'InvalidRecipientKeyError';
  }
}

export class CustodyOperationError extends Error {
  readonly code = 'CUSTODY.OPERATION_FAILED' as const;
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'CustodyOperationError';
  }
}
