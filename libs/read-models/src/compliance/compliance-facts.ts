import { evolveKey, initialKeyState, type Key, type KeyEvent, type KeyVersionState } from '@keyledger/domain';
import type { RecordedEvent } from '@keyledger/event-store';
import { refOf, type EventRef, type ProjectedEvent } from '../events.js';

/**
 * What the compliance projection keeps of a key: its state as the domain folds it, so that a
 * denied use can be judged by the state its version was in *when* it was attempted, and the event
 * that last changed each version's state (the evidence of that state).
 */
export interface ComplianceKeyDocument {
  readonly key: Key;
  readonly stateChanges: readonly { readonly version: number; readonly ref: EventRef }[];
}

/** States in which a version is out of use: an attempt to use it anyway is a finding. */
export const RETIRED_STATES: readonly KeyVersionState[] = ['deactivated', 'compromised', 'destroyed'];

/** Facts the rules need that no other read model keeps, each pinned to the event it comes from. */
export type ComplianceFact =
  | {
      readonly kind: 'use-after-deactivation';
      readonly position: number;
      readonly tenantId: string;
      readonly keyId: string;
      readonly version: number;
      readonly operation: string;
      readonly state: KeyVersionState;
      readonly at: string;
      readonly evidence: EventRef;
      readonly stateEvidence: EventRef | null;
    }
  | {
      readonly kind: 'ceremony-closed';
      readonly position: number;
      readonly tenantId: string | null;
      /** The key the ceremony named; null for a ceremony about no single key. */
      readonly keyId: string | null;
      readonly ceremonyId: string;
      readonly purpose: string;
      readonly at: string;
      readonly evidence: EventRef;
    };

export type ComplianceFactKind = ComplianceFact['kind'];

export function evolveComplianceKey(doc: ComplianceKeyDocument | null, event: RecordedEvent & KeyEvent): ComplianceKeyDocument {
  const before = doc ? ({ status: 'present', key: doc.key } as const) : initialKeyState();
  const after = evolveKey(before, { type: event.type, data: event.data } as KeyEvent);
  if (after.status !== 'present') throw new Error(`Key stream ${event.streamId} folded to an absent key`);
  const ref = refOf(event);
  const changed = after.key.versions.filter((v) => doc?.key.versions.find((old) => old.version === v.version)?.state !== v.state);
  const untouched = (doc?.stateChanges ?? []).filter((change) => !changed.some((v) => v.version === change.version));
  return { key: after.key, stateChanges: [...untouched, ...changed.map((v) => ({ version: v.version, ref }))] };
}

/**
 * The fact an event establishes, given the compliance document of the key it names (null when
 * the event names no key or the key is unknown). Pure: the same event and document give the same fact.
 */
export function factOf(event: ProjectedEvent, doc: ComplianceKeyDocument | null): ComplianceFact | null {
  switch (event.type) {
    case 'KeyUseDenied':
      return doc ? useAfterDeactivation(event, doc) : null;
    case 'CeremonyClosed':
      return {
        kind: 'ceremony-closed',
        position: event.position,
        tenantId: event.metadata.tenantId,
        keyId: event.data.keyId,
        ceremonyId: event.data.ceremonyId,
        purpose: event.data.purpose,
        at: event.data.closedAt,
        evidence: refOf(event),
      };
    default:
      return null;
  }
}

function useAfterDeactivation(event: ProjectedEvent & { type: 'KeyUseDenied' }, doc: ComplianceKeyDocument): ComplianceFact | null {
  const versionNumber = event.data.version ?? doc.key.currentVersion;
  const version = doc.key.versions.find((v) => v.version === versionNumber);
  if (!version || !RETIRED_STATES.includes(version.state)) return null;
  return {
    kind: 'use-after-deactivation',
    position: event.position,
    tenantId: doc.key.tenantId,
    keyId: doc.key.keyId,
    version: versionNumber,
    operation: event.data.operation,
    state: version.state,
    at: event.data.deniedAt,
    evidence: refOf(event),
    stateEvidence: doc.stateChanges.find((change) => change.version === versionNumber)?.ref ?? null,
  };
}
