import {
  APPROVAL_EVENT_TYPES,
  CEREMONY_EVENT_TYPES,
  KEY_EVENT_TYPES,
  type ApprovalEvent,
  type CeremonyEvent,
  type DekRewrapEvent,
  type KeyEvent,
  type KeyUseEvent,
} from '@keyledger/domain';
import type { RecordedEvent } from '@keyledger/event-store';

/**
 * The events the read side understands. Key, use, rewrap, approval and ceremony events are the
 * domain's own types; the few others are bookkeeping of the application layer, described here as
 * the read side reads them (a consumer's view of their JSON).
 */
export type UseEvent = KeyUseEvent;
export type RewrapEvent = DekRewrapEvent;

/** Bookkeeping of the rotation scheduler and the approvals index: audited like everything else. */
export type OperationsEvent =
  | { type: 'RotationDueRaised'; data: { keyId: string; version: number; purpose: string; reason: string; raisedAt: string } }
  | { type: 'SchedulerLeaseTaken'; data: { holder: string; until: string; takenAt: string } }
  | { type: 'ApprovalIndexed'; data: { approvalId: string } };

export type AccessEvent = {
  type: 'CrossTenantAccessDenied';
  data: { keyId: string; principalId: string; principalTenantId: string | null; operation: string; deniedAt: string };
};

/** Principal events also carry a token hash: the read side never copies it anywhere. */
export type PrincipalEvent =
  | {
      type: 'PrincipalRegistered';
      data: { principalId: string; name: string; roles: string[]; tenantId: string | null; registeredAt: string };
    }
  | { type: 'PrincipalRevoked'; data: { principalId: string; revokedAt: string } }
  | { type: 'PrincipalTokenRotated'; data: { principalId: string; rotatedAt: string } };

export type RecipientEvent = {
  type: 'RecipientRegistered';
  data: { id: string; name: string; tenantId: string; publicKeyFingerprint: string; registeredAt: string };
};

export type ReadSideEvent =
  | KeyEvent
  | UseEvent
  | RewrapEvent
  | AccessEvent
  | PrincipalEvent
  | RecipientEvent
  | ApprovalEvent
  | CeremonyEvent
  | OperationsEvent;
export type ReadSideEventType = ReadSideEvent['type'];

/** A recorded event of a type the read side knows, with its data typed by that type. */
export type ProjectedEvent = RecordedEvent & ReadSideEvent;

type ApplicationEventType = Exclude<ReadSideEventType, KeyEvent['type'] | ApprovalEvent['type'] | CeremonyEvent['type']>;

/** Registered explicitly (never derived from a class name); a type missing here fails to compile. */
const APPLICATION_EVENT_TYPES: Readonly<Record<ApplicationEventType, true>> = {
  KeyUsed: true,
  KeyUseDenied: true,
  KeyUseFailed: true,
  DekRewrapStarted: true,
  DekRewrapped: true,
  DekRewrapSkipped: true,
  DekRewrapCompleted: true,
  CrossTenantAccessDenied: true,
  PrincipalRegistered: true,
  PrincipalRevoked: true,
  PrincipalTokenRotated: true,
  RecipientRegistered: true,
  RotationDueRaised: true,
  SchedulerLeaseTaken: true,
  ApprovalIndexed: true,
};

export const READ_SIDE_EVENT_TYPES: ReadonlySet<string> = new Set<string>([
  ...Object.keys(KEY_EVENT_TYPES),
  ...Object.keys(APPLICATION_EVENT_TYPES),
  ...APPROVAL_EVENT_TYPES,
  ...CEREMONY_EVENT_TYPES,
]);

/** The event typed by its type, or null when the read side does not know the type (the runner reports those). */
export const asProjectedEvent = (recorded: RecordedEvent): ProjectedEvent | null =>
  READ_SIDE_EVENT_TYPES.has(recorded.type) ? (recorded as ProjectedEvent) : null;

export const isKeyLifecycleEvent = (event: ProjectedEvent): event is RecordedEvent & KeyEvent =>
  Object.prototype.hasOwnProperty.call(KEY_EVENT_TYPES, event.type);

/** Where a read-model fact comes from: the evidence an auditor follows back into the log. */
export interface EventRef {
  readonly eventId: string;
  readonly position: number;
  readonly type: string;
  readonly recordedAt: string;
}

export const refOf = (event: RecordedEvent): EventRef => ({
  eventId: event.eventId,
  position: event.position,
  type: event.type,
  recordedAt: event.metadata.recordedAt,
});

/** Uses that produce something protected under the version (SPEC §3 "protect"). */
export const PROTECT_OPERATIONS: readonly string[] = ['generate-data-key', 'encrypt', 'wrap', 'rewrap', 'distribute'];
/** Protect uses that leave a ciphertext depending on the version (distribution hands material out instead). */
export const CIPHERTEXT_OPERATIONS: readonly string[] = ['generate-data-key', 'encrypt', 'wrap', 'rewrap'];

/** The later of two ISO instants (compared as instants, not as text). */
export const laterInstant = (a: string, b: string): string => (Date.parse(b) > Date.parse(a) ? b : a);
