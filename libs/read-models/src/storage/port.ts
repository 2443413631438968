import type { AuditEntry, AuditSubject } from '../audit/audit-entry.js';
import type { AuditFilter, AuditQuery } from '../audit/audit-query.js';
import type { ComplianceFact, ComplianceFactKind, ComplianceKeyDocument } from '../compliance/compliance-facts.js';
import type { InventoryKeyDocument } from '../inventory/inventory-document.js';
import type { InventoryKeyState, InventoryQuery } from '../inventory/inventory-query.js';

/**
 * The read-model storage port. A projection's rows and the position it has applied are written
 * by one `commit`, in one transaction: a crash can never keep one without the other, so replaying
 * from the checkpoint is idempotent and a rebuild gives what incremental updates gave.
 *
 * The SQLite adapter is the embedded default; any adapter (PostgreSQL next) implements the same
 * port and runs the same contract suite (`contract.ts`).
 */
export const PROJECTION_NAMES = ['inventory', 'audit', 'compliance'] as const;
export type ProjectionName = (typeof PROJECTION_NAMES)[number];

export interface UnknownEventReport {
  readonly position: number;
  readonly type: string;
}

export interface ProjectionFailure {
  readonly position: number;
  readonly message: string;
  readonly at: string;
}

export interface ProjectionCheckpoint {
  readonly projection: ProjectionName;
  /** Global position of the last event applied (0 before the first). */
  readonly position: number;
  /** Events of types the read side does not know: counted and reported, never silently dropped. */
  readonly unknownEvents: number;
  readonly lastUnknown: UnknownEventReport | null;
  /** The last failure to apply a batch (cleared by the next successful commit). */
  readonly failure: ProjectionFailure | null;
  readonly updatedAt: string | null;
}

/** What one batch of events changes in one projection's read model. */
export type ProjectionWrites =
  /** Every change of a key document in the batch, in log order. */
  | { readonly projection: 'inventory'; readonly changes: readonly InventoryChange[] }
  | { readonly projection: 'audit'; readonly entries: readonly AuditEntry[]; readonly subjects: readonly AuditSubject[] }
  /** The last document of each key touched, and the facts established. */
  | { readonly projection: 'compliance'; readonly keys: readonly ComplianceKeyDocument[]; readonly facts: readonly ComplianceFact[] };

/** A key document after an event; a change of the key's state opens a new point-in-time interval. */
export interface InventoryChange {
  readonly doc: InventoryKeyDocument;
  readonly opensInterval: boolean;
}

export interface ProjectionCommit {
  /** The checkpoint the batch was projected from: the commit fails if it has moved since. */
  readonly expectedPosition: number;
  /** The position of the batch's last event: the new checkpoint. */
  readonly position: number;
  readonly writes: ProjectionWrites;
  readonly unknown: readonly UnknownEventReport[];
}

/** Another writer (a rebuild, a second runner) moved the checkpoint: re-read it and resume from there. */
export class CheckpointMovedError extends Error {
  readonly code = 'READ_MODEL.CHECKPOINT_MOVED' as const;
  constructor(
    readonly projection: ProjectionName,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`Projection ${projection} is at position ${actual}, expected ${expected}`);
    this.name = 'CheckpointMovedError';
  }
}

export interface CheckpointStore {
  all(): Promise<ProjectionCheckpoint[]>;
  get(projection: ProjectionName): Promise<ProjectionCheckpoint>;
  /** Recorded outside any batch, so that `projections status` can say why a projection stopped. */
  recordFailure(projection: ProjectionName, failure: ProjectionFailure): Promise<void>;
}

export interface InventoryStore {
  /** Current documents of these keys (absent ids are simply missing from the map). */
  current(keyIds: readonly string[]): Promise<Map<string, InventoryKeyDocument>>;
  /** Up to `limit` keys matching the query, in its order, now or at `query.at`. */
  list(query: InventoryQuery): Promise<InventoryKeyState[]>;
  /** Every current document, of one tenant or of all. */
  all(tenantId?: string): Promise<InventoryKeyDocument[]>;
  /** Current documents of the keys whose parent is one of these keys. */
  children(parentKeyIds: readonly string[]): Promise<InventoryKeyDocument[]>;
  /**
   * Current documents of every key a compliance rule may fire on at `now` (see
   * `compliance/candidates.ts`), of one tenant or of all, and the keys under compromised ones.
   */
  complianceCandidates(now: string, tenantId?: string): Promise<InventoryKeyDocument[]>;
  /** Tenants that have an active KEK of their own. */
  tenantsWithActiveKek(): Promise<string[]>;
}

export interface AuditStore {
  subjects(subjectIds: readonly string[]): Promise<Map<string, AuditSubject>>;
  /** Up to `limit` entries matching the query, in its order. */
  list(query: AuditQuery): Promise<AuditEntry[]>;
  /** How many entries match, per key version. */
  countByVersion(filter: AuditFilter & { readonly keyId: string }): Promise<Map<number, number>>;
  /** Successful rewraps of a key's ciphertexts, per version they were rewrapped away from. */
  countRewrappedFrom(keyId: string): Promise<Map<number, number>>;
}

export interface ComplianceStore {
  keys(keyIds: readonly string[]): Promise<Map<string, ComplianceKeyDocument>>;
  facts(kind: ComplianceFactKind, tenantId?: string): Promise<ComplianceFact[]>;
}

export interface ReadModelStorage {
  readonly checkpoints: CheckpointStore;
  readonly inventory: InventoryStore;
  readonly audit: AuditStore;
  readonly compliance: ComplianceStore;
  /** Writes a batch and moves its projection's checkpoint in one transaction (CheckpointMovedError if it moved). */
  commit(commit: ProjectionCommit): Promise<void>;
  /** Drops a projection's read model and sets its checkpoint back to 0 (the start of a rebuild). */
  reset(projection: ProjectionName): Promise<void>;
  close(): Promise<void>;
}
