import {
  activeVersion,
  evolveKey,
  initialKeyState,
  type DestructionEvidence,
  type Key,
  type KeyEvent,
  type KeyVersionState,
} from '@keyledger/domain';
import type { RecordedEvent } from '@keyledger/event-store';
import { laterInstant, refOf, type EventRef, type RewrapEvent } from '../events.js';

/** The events that moved one version, kept as evidence for findings and certificates. */
export interface VersionEvidence {
  readonly version: number;
  readonly created: EventRef;
  readonly activated: EventRef | null;
  readonly deactivated: EventRef | null;
  readonly compromised: EventRef | null;
  readonly destroyed: EventRef | null;
  /** What the custodian proved at destruction (never material: handles and verification text). */
  readonly destruction: Omit<DestructionEvidence, 'destroyedAt'> | null;
  /** The parent version whose material wraps this version now: set at creation, moved by a rewrap. */
  readonly wrappedBy: number | null;
  /** The last rewrap of this version under another parent version. */
  readonly rewrapped: EventRef | null;
}

/**
 * One key of the inventory: the key as the domain folds it, the revision of its stream, and the
 * evidence of each version. `validFrom` is when this state began: the recording time of its last
 * event, never earlier than the previous state's (so that point-in-time intervals never overlap).
 */
export interface InventoryKeyDocument {
  readonly key: Key;
  readonly revision: number;
  readonly position: number;
  readonly validFrom: string;
  readonly generated: EventRef;
  readonly versions: readonly VersionEvidence[];
}

type KeyRecordedEvent = RecordedEvent & KeyEvent;

/** evolve(document, event) → document: the domain's fold, plus the bookkeeping of the read model. */
export function evolveInventoryKey(doc: InventoryKeyDocument | null, event: KeyRecordedEvent): InventoryKeyDocument {
  const before = doc ? ({ status: 'present', key: doc.key } as const) : initialKeyState();
  const after = evolveKey(before, { type: event.type, data: event.data } as KeyEvent);
  if (after.status !== 'present') throw new Error(`Key stream ${event.streamId} folded to an absent key`);
  const ref = refOf(event);
  return {
    key: after.key,
    revision: event.revision,
    position: event.position,
    validFrom: doc ? laterInstant(doc.validFrom, ref.recordedAt) : ref.recordedAt,
    generated: doc?.generated ?? ref,
    versions: evolveEvidence(doc?.versions ?? [], event, ref),
  };
}

function evolveEvidence(versions: readonly VersionEvidence[], event: KeyRecordedEvent, ref: EventRef): readonly VersionEvidence[] {
  switch (event.type) {
    case 'KeyGenerated':
      return [created(event.data.material.version, event.data.parentVersion, ref)];
    case 'KeyRotated': {
      const withPrevious =
        event.data.previousVersion === null ? versions : patch(versions, event.data.previousVersion, { deactivated: ref });
      return [...withPrevious, { ...created(event.data.material.version, event.data.parentVersion, ref), activated: ref }];
    }
    case 'KeyVersionActivated':
      return patch(versions, event.data.version, { activated: ref });
    case 'KeyVersionDeactivated':
      return patch(versions, event.data.version, { deactivated: ref });
    case 'KeyVersionRevoked':
      return patch(versions, event.data.version, event.data.reason === 'compromised' ? { compromised: ref } : { deactivated: ref });
    case 'KeyVersionDestroyed': {
      const { destroyedAt: _at, ...destruction } = event.data.evidence;
      return patch(versions, event.data.version, { destroyed: ref, destruction });
    }
    case 'KeyVersionSuspended':
    case 'KeyVersionReactivated':
    case 'KeyDestructionScheduled':
    case 'KeyDestructionCancelled':
    case 'KeyMetadataUpdated':
      return versions;
    default: {
      const _exhaustive: never = event;
      throw new Error(`Unknown key event ${JSON.stringify(_exhaustive)}`);
    }
  }
}

const created = (version: number, wrappedBy: number | null, ref: EventRef): VersionEvidence => ({
  version,
  created: ref,
  activated: null,
  deactivated: null,
  compromised: null,
  destroyed: null,
  destruction: null,
  wrappedBy,
  rewrapped: null,
});

/**
 * A DEK version rewrapped under a KEK's newer version: what wraps it changes, its lifecycle state
 * does not, so this is no new point-in-time interval of the key.
 */
export function rewrapInventoryKey(doc: InventoryKeyDocument, event: RecordedEvent & Extract<RewrapEvent, { type: 'DekRewrapped' }>): InventoryKeyDocument {
  return { ...doc, versions: patch(doc.versions, event.data.dekVersion, { wrappedBy: event.data.toKekVersion, rewrapped: refOf(event) }) };
}

/** The parent version wrapping a version now (after any rewrap). */
export const wrappedByOf = (doc: InventoryKeyDocument, version: number): number | null =>
  doc.versions.find((v) => v.version === version)?.wrappedBy ?? doc.key.versions.find((v) => v.version === version)?.parentVersion ?? null;

const patch = (versions: readonly VersionEvidence[], version: number, change: Partial<VersionEvidence>): readonly VersionEvidence[] =>
  versions.map((v) => (v.version === version ? { ...v, ...change } : v));

/** A key whose every version is destroyed protects nothing any more. */
export const isFullyDestroyed = (key: Key): boolean => key.versions.every((v) => v.state === 'destroyed');

/** The custodian proved the material gone: verified absent, with the verification it ran. */
export const hasVerifiedEvidence = (record: VersionEvidence | undefined): boolean =>
  record?.destruction?.verifiedAbsent === true && record.destruction.verification.trim() !== '';

/** Whether a destroyed version of the key lacks the custodian's verified evidence. */
export const lacksDestructionEvidence = (doc: InventoryKeyDocument): boolean =>
  doc.key.versions.some((v) => v.state === 'destroyed' && !hasVerifiedEvidence(doc.versions.find((e) => e.version === v.version)));

// ---- the columns an inventory is filtered and sorted by, derived from the document ----

export interface InventoryColumns {
  readonly keyId: string;
  readonly tenantId: string;
  readonly purpose: string;
  readonly custodian: string;
  /** State of the current version (the one that protects, else the newest). */
  readonly state: KeyVersionState;
  /** True when any version was ever reported compromised (the flag survives destruction). */
  readonly compromised: boolean;
  readonly createdAt: string;
  /** End of the active version's originator-usage period: when it must have been rotated. */
  readonly rotationDueAt: string | null;
  readonly parentKeyId: string | null;
  readonly classifications: readonly string[];
  readonly vendors: readonly string[];
}

export function inventoryColumns({ key }: Pick<InventoryKeyDocument, 'key'>): InventoryColumns {
  const current = key.versions.find((v) => v.version === key.currentVersion);
  return {
    keyId: key.keyId,
    tenantId: key.tenantId,
    purpose: key.purpose,
    custodian: key.custodian,
    state: current?.state ?? 'pre-activation',
    compromised: key.versions.some((v) => v.compromised),
    createdAt: key.createdAt,
    rotationDueAt: activeVersion(key)?.protectUntil ?? null,
    parentKeyId: key.parentKeyId,
    classifications: [...key.classifications],
    vendors: key.vendors.map((v) => v.name),
  };
}
