import type { DestructionEvidence, NewVersionMaterial } from './events.js';
import type {
  CustodianName,
  DataClassification,
  KeyAlgorithm,
  KeyPurpose,
  RevocationReason,
  VendorIntegration,
} from './types.js';

/**
 * Commands of the key decider. Time (`now`, ISO-8601), ids and fresh material handles come in
 * with the command: the decider does no I/O and reads no clock.
 * `version` names a version; when absent the command acts on the key's current version.
 */
export type GenerateKey = {
  type: 'GenerateKey';
  data: {
    keyId: string;
    tenantId: string;
    purpose: KeyPurpose;
    algorithm: KeyAlgorithm;
    custodian: CustodianName;
    parent: ParentKeyView | null;
    label: string | null;
    classifications: DataClassification[];
    vendors: VendorIntegration[];
    cryptoperiodDays: number | null;
    material: Omit<NewVersionMaterial, 'version'>;
    now: string;
  };
};

/** What the decider needs to know of a parent key (read by the handler from its stream). */
export interface ParentKeyView {
  readonly keyId: string;
  readonly tenantId: string;
  readonly purpose: KeyPurpose;
  /** The parent's current version and whether it may protect (wrap) now. */
  readonly version: number;
  readonly canProtect: boolean;
}

export type ActivateKey = { type: 'ActivateKey'; data: { version?: number; now: string } };
export type RotateKey = {
  type: 'RotateKey';
  data: { material: Omit<NewVersionMaterial, 'version'>; parentVersion: number | null; now: string };
};
export type SuspendKey = { type: 'SuspendKey'; data: { version?: number; reason?: string | null; now: string } };
export type ReactivateKey = { type: 'ReactivateKey'; data: { version?: number; now: string } };
export type DeactivateKey = { type: 'DeactivateKey'; data: { version?: number; now: string } };
export type RevokeKey = {
  type: 'RevokeKey';
  data: { version?: number; reason: RevocationReason; compromisedAt?: string | null; now: string };
};
export type ScheduleKeyDestruction = {
  type: 'ScheduleKeyDestruction';
  data: { version?: number; waitingPeriodDays: number; minimumWaitingPeriodDays: number; now: string };
};
export type CancelKeyDestruction = { type: 'CancelKeyDestruction'; data: { version?: number; now: string } };
/** Destruction is two-phase: the handler asks the decider, then the custodian, then records evidence. */
export type DestroyKey = {
  type: 'DestroyKey';
  data: { version?: number; evidence: DestructionEvidence; now: string };
};

/** Replaces the key's data classes and/or vendor integrations (those given). */
export type UpdateKeyMetadata = {
  type: 'UpdateKeyMetadata';
  data: { classifications?: DataClassification[]; vendors?: VendorIntegration[]; now: string };
};

export type KeyCommand =
  | GenerateKey
  | UpdateKeyMetadata
  | ActivateKey
  | RotateKey
  | SuspendKey
  | ReactivateKey
  | DeactivateKey
  | RevokeKey
  | ScheduleKeyDestruction
  | CancelKeyDestruction
  | DestroyKey;
