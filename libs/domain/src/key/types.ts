/** Vocabulary of the key aggregate (SPEC §2, §3, §5). */
export const KEY_PURPOSES = ['root', 'kek', 'dek'] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

export const KEY_VERSION_STATES = [
  'pre-activation',
  'active',
  'suspended',
  'deactivated',
  'compromised',
  'destroyed',
] as const;
export type KeyVersionState = (typeof KEY_VERSION_STATES)[number];

export const REVOCATION_REASONS = [
  'compromised',
  'superseded',
  'cessation-of-operation',
  'privilege-withdrawn',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export const CUSTODIANS = ['software', 'pkcs11', 'aws-kms'] as const;
export type CustodianName = (typeof CUSTODIANS)[number];

export const KEY_ALGORITHMS = ['AES-256'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

export const DATA_CLASSIFICATIONS = [
  'ephi',
  'pii',
  'sud-42cfr2',
  'behavioral-health',
  'controlled-substance',
  'payment',
  'internal',
] as const;
export type DataClassification = (typeof DATA_CLASSIFICATIONS)[number];

export const BAA_STATUSES = ['signed', 'pending', 'none', 'not-required'] as const;
export type BaaStatus = (typeof BAA_STATUSES)[number];

export const VENDOR_KEY_MODES = ['byok', 'cmk', 'zero-retention', 'none'] as const;
export type VendorKeyMode = (typeof VENDOR_KEY_MODES)[number];

/** A vendor integration the key serves, e.g. `aws-bedrock` CMK or `openai` zero retention. */
export interface VendorIntegration {
  readonly name: string;
  readonly mode: VendorKeyMode;
  readonly baaStatus: BaaStatus;
}

/** Originator- and recipient-usage periods of each version, in days (SP 800-57 §5.3). */
export interface CryptoperiodPolicy {
  readonly oupDays: number;
  readonly rupDays: number;
  /** Set when policy stretches a root's OUP past SP 800-57 Table 1 (documented deviation). */
  readonly deviation: string | null;
}

/** Which lifecycle command a version-level operation is. Used in errors and audit entries. */
export type LifecycleCommandName =
  | 'generate'
  | 'activate'
  | 'rotate'
  | 'suspend'
  | 'reactivate'
  | 'deactivate'
  | 'revoke'
  | 'schedule-destruction'
  | 'cancel-destruction'
  | 'destroy'
  | 'update-metadata';
