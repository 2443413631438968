import type {
  CryptoperiodPolicy,
  CustodianName,
  DataClassification,
  KeyAlgorithm,
  KeyPurpose,
  KeyVersionState,
  VendorIntegration,
} from './types.js';

/** One version of a key as folded from its events. */
export interface KeyVersion {
  readonly version: number;
  readonly state: KeyVersionState;
  /** KMIP's "Destroyed Compromised": the flag survives destruction. */
  readonly compromised: boolean;
  readonly compromisedAt: string | null;
  readonly materialRef: string;
  readonly fingerprint: string;
  readonly parentVersion: number | null;
  readonly createdAt: string;
  readonly activatedAt: string | null;
  readonly deactivatedAt: string | null;
  readonly protectUntil: string | null;
  readonly processUntil: string | null;
  readonly destructionScheduledFor: string | null;
  readonly destroyedAt: string | null;
}

export interface Key {
  readonly keyId: string;
  readonly tenantId: string;
  readonly purpose: KeyPurpose;
  readonly algorithm: KeyAlgorithm;
  readonly custodian: CustodianName;
  readonly parentKeyId: string | null;
  readonly label: string | null;
  readonly classifications: readonly DataClassification[];
  readonly vendors: readonly VendorIntegration[];
  readonly policy: CryptoperiodPolicy;
  /** The version that protects (the newest active one), or the newest version when none is active. */
  readonly currentVersion: number;
  readonly versions: readonly KeyVersion[];
  readonly createdAt: string;
  readonly lastRotatedAt: string | null;
}

/** State of a key stream: absent until generated. */
export type KeyState = { status: 'absent' } | { status: 'present'; key: Key };

export const initialKeyState = (): KeyState => ({ status: 'absent' });
