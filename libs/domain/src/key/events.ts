import type {
  CryptoperiodPolicy,
  CustodianName,
  DataClassification,
  KeyAlgorithm,
  KeyPurpose,
  RevocationReason,
  VendorIntegration,
} from './types.js';

/**
 * Events of the key lifecycle stream. They carry identifiers, fingerprints and evidence,
 * never key material. Type strings are stable and registered in KEY_EVENT_TYPES.
 * Instants are ISO-8601 strings in UTC.
 */
export interface NewVersionMaterial {
  readonly version: number;
  /** Opaque handle of the material in the custodian (an id, never the material). */
  readonly materialRef: string;
  /** Key check value: HMAC-SHA-256 of a fixed label under the key, truncated; reveals nothing of it. */
  readonly fingerprint: string;
}

export type KeyGenerated = {
  type: 'KeyGenerated';
  data: {
    keyId: string;
    tenantId: string;
    purpose: KeyPurpose;
    algorithm: KeyAlgorithm;
    custodian: CustodianName;
    parentKeyId: string | null;
    /** Version of the parent that wraps version 1's material, when there is a parent. */
    parentVersion: number | null;
    label: string | null;
    classifications: DataClassification[];
    vendors: VendorIntegration[];
    policy: CryptoperiodPolicy;
    material: NewVersionMaterial;
    generatedAt: string;
  };
};

export type KeyVersionActivated = {
  type: 'KeyVersionActivated';
  data: { keyId: string; version: number; activatedAt: string; protectUntil: string; processUntil: string };
};

/** Rotation creates and activates a new version; the previous active one (if any) is deactivated. */
export type KeyRotated = {
  type: 'KeyRotated';
  data: {
    keyId: string;
    material: NewVersionMaterial;
    parentVersion: number | null;
    previousVersion: number | null;
    rotatedAt: string;
    protectUntil: string;
    processUntil: string;
  };
};

export type KeyVersionSuspended = {
  type: 'KeyVersionSuspended';
  data: { keyId: string; version: number; suspendedAt: string; reason: string | null };
};

export type KeyVersionReactivated = {
  type: 'KeyVersionReactivated';
  data: { keyId: string; version: number; reactivatedAt: string };
};

export type KeyVersionDeactivated = {
  type: 'KeyVersionDeactivated';
  data: { keyId: string; version: number; deactivatedAt: string; reason: RevocationReason | 'operator' };
};

/**
 * Revocation (KMIP style): `compromised` moves the version to compromised (or only sets the flag
 * on a destroyed one); the other reasons deactivate it.
 */
export type KeyVersionRevoked = {
  type: 'KeyVersionRevoked';
  data: {
    keyId: string;
    version: number;
    reason: RevocationReason;
    compromisedAt: string | null;
    revokedAt: string;
    resultingState: 'compromised' | 'deactivated' | 'destroyed';
  };
};

export type KeyDestructionScheduled = {
  type: 'KeyDestructionScheduled';
  data: {
    keyId: string;
    version: number;
    waitingPeriodDays: number;
    /** The minimum waiting period in force when scheduled (KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS). */
    minimumWaitingPeriodDays: number;
    scheduledAt: string;
    scheduledFor: string;
  };
};

export type KeyDestructionCancelled = {
  type: 'KeyDestructionCancelled';
  data: { keyId: string; version: number; cancelledAt: string };
};

/** Evidence the custodian gives that the material is gone (no material, only proof of absence). */
export interface DestructionEvidence {
  readonly custodian: CustodianName;
  readonly materialRef: string;
  readonly method: string;
  readonly verifiedAbsent: boolean;
  readonly verification: string;
  readonly destroyedAt: string;
}

export type KeyVersionDestroyed = {
  type: 'KeyVersionDestroyed';
  data: { keyId: string; version: number; destroyedAt: string; evidence: DestructionEvidence };
};

/** Data classes and vendor integrations changed by a key administrator (SPEC §5). */
export type KeyMetadataUpdated = {
  type: 'KeyMetadataUpdated';
  data: { keyId: string; classifications: DataClassification[]; vendors: VendorIntegration[]; updatedAt: string };
};

export type KeyEvent =
  | KeyGenerated
  | KeyMetadataUpdated
  | KeyVersionActivated
  | KeyRotated
  | KeyVersionSuspended
  | KeyVersionReactivated
  | KeyVersionDeactivated
  | KeyVersionRevoked
  | KeyDestructionScheduled
  | KeyDestructionCancelled
  | KeyVersionDestroyed;

export type KeyEventType = KeyEvent['type'];

/** The registry of key event types and their current schema versions. */
export const KEY_EVENT_TYPES: Readonly<Record<KeyEventType, { schemaVersion: number }>> = {
  KeyGenerated: { schemaVersion: 1 },
  KeyVersionActivated: { schemaVersion: 1 },
  KeyRotated: { schemaVersion: 1 },
  KeyVersionSuspended: { schemaVersion: 1 },
  KeyVersionReactivated: { schemaVersion: 1 },
  KeyVersionDeactivated: { schemaVersion: 1 },
  KeyVersionRevoked: { schemaVersion: 1 },
  KeyDestructionScheduled: { schemaVersion: 1 },
  KeyDestructionCancelled: { schemaVersion: 1 },
  KeyVersionDestroyed: { schemaVersion: 1 },
  KeyMetadataUpdated: { schemaVersion: 1 },
};

export const isKeyEvent = (e: { type: string }): e is KeyEvent =>
  Object.prototype.hasOwnProperty.call(KEY_EVENT_TYPES, e.type);
