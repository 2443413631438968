import type { KeyEventType, LifecycleCommandName } from '@keyledger/domain';
import type { RecordedEvent } from '@keyledger/event-store';
import { asProjectedEvent, type EventRef, type ProjectedEvent } from '../events.js';

/**
 * One line of the 45 CFR 164.312(b) audit view: who did what to which key, when, with what
 * outcome. Every event of the log becomes exactly one entry, so the view is as complete as the log.
 */
export const AUDIT_OUTCOMES = ['success', 'denied', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export type AuditDetail = Readonly<Record<string, string | number | boolean | null>>;

export interface AuditEntry {
  readonly position: number;
  readonly eventId: string;
  readonly recordedAt: string;
  /** The principal id that acted (or `system…`). */
  readonly actor: string;
  readonly tenantId: string | null;
  readonly keyId: string | null;
  readonly version: number | null;
  /** A lifecycle command (`rotate`), a use (`encrypt`), or a governance action (`approve`). */
  readonly operation: string;
  readonly outcome: AuditOutcome;
  readonly correlationId: string;
  readonly eventType: string;
  /** Identifiers and reasons only: never material, tokens or their hashes. */
  readonly detail: AuditDetail;
}

/** The entry's event, as evidence. */
export const auditEntryRef = (entry: AuditEntry): EventRef => ({
  eventId: entry.eventId,
  position: entry.position,
  type: entry.eventType,
  recordedAt: entry.recordedAt,
});

/** The key an approval request or a ceremony is about, remembered from the event that opened it. */
export interface AuditSubject {
  readonly subjectId: string;
  readonly keyId: string | null;
  readonly version: number | null;
  readonly tenantId: string | null;
}

const LIFECYCLE_OPERATIONS: Readonly<Record<KeyEventType, LifecycleCommandName>> = {
  KeyGenerated: 'generate',
  KeyVersionActivated: 'activate',
  KeyRotated: 'rotate',
  KeyVersionSuspended: 'suspend',
  KeyVersionReactivated: 'reactivate',
  KeyVersionDeactivated: 'deactivate',
  KeyVersionRevoked: 'revoke',
  KeyDestructionScheduled: 'schedule-destruction',
  KeyDestructionCancelled: 'cancel-destruction',
  KeyVersionDestroyed: 'destroy',
  KeyMetadataUpdated: 'update-metadata',
};

/** What an event says, before the fields every entry takes from the recorded event. */
interface Described {
  readonly operation: string;
  readonly outcome?: AuditOutcome;
  readonly keyId?: string | null;
  readonly version?: number | null;
  readonly actor?: string;
  readonly tenantId?: string | null;
  readonly detail?: AuditDetail;
}

export function toAuditEntry(recorded: RecordedEvent, subjects: ReadonlyMap<string, AuditSubject>): AuditEntry {
  const known = asProjectedEvent(recorded);
  const described = known ? describe(known, subjects) : describeUnknown(recorded);
  return {
    position: recorded.position,
    eventId: recorded.eventId,
    recordedAt: recorded.metadata.recordedAt,
    actor: described.actor ?? recorded.metadata.actor,
    tenantId: described.tenantId !== undefined ? described.tenantId : recorded.metadata.tenantId,
    keyId: described.keyId ?? null,
    version: described.version ?? null,
    operation: described.operation,
    outcome: described.outcome ?? 'success',
    correlationId: recorded.metadata.correlationId,
    eventType: recorded.type,
    detail: described.detail ?? {},
  };
}

/** The subject an approval or ceremony event opens, if it opens one. */
export function subjectOpenedBy(event: ProjectedEvent): AuditSubject | null {
  switch (event.type) {
    case 'ApprovalRequested':
      return { subjectId: event.data.approvalId, keyId: event.data.keyId, version: event.data.version, tenantId: event.data.tenantId };
    case 'CeremonyOpened':
      return { subjectId: event.data.ceremonyId, keyId: event.data.keyId, version: null, tenantId: event.metadata.tenantId };
    default:
      return null;
  }
}

/** The subject an event refers to (approval or ceremony id), if any. */
export function subjectIdOf(event: RecordedEvent): string | null {
  const data = event.data as { approvalId?: unknown; ceremonyId?: unknown } | null;
  if (typeof data?.approvalId === 'string') return data.approvalId;
  if (typeof data?.ceremonyId === 'string') return data.ceremonyId;
  return null;
}

function describe(event: ProjectedEvent, subjects: ReadonlyMap<string, AuditSubject>): Described {
  switch (event.type) {
    case 'KeyGenerated':
      return lifecycle(event, event.data.material.version, { purpose: event.data.purpose, parentKeyId: event.data.parentKeyId });
    case 'KeyRotated':
      return lifecycle(event, event.data.material.version, { previousVersion: event.data.previousVersion });
    case 'KeyVersionActivated':
    case 'KeyVersionSuspended':
    case 'KeyVersionReactivated':
    case 'KeyVersionDeactivated':
    case 'KeyDestructionCancelled':
      return lifecycle(event, event.data.version);
    case 'KeyVersionRevoked':
      return lifecycle(event, event.data.version, { reason: event.data.reason, compromisedAt: event.data.compromisedAt });
    case 'KeyDestructionScheduled':
      return lifecycle(event, event.data.version, { scheduledFor: event.data.scheduledFor });
    case 'KeyVersionDestroyed':
      return lifecycle(event, event.data.version, {
        custodian: event.data.evidence.custodian,
        method: event.data.evidence.method,
        verifiedAbsent: event.data.evidence.verifiedAbsent,
      });
    case 'KeyMetadataUpdated':
      return lifecycle(event, null, { classifications: event.data.classifications.join(','), vendors: event.data.vendors.map((v) => v.name).join(',') });
    case 'KeyUsed':
      return {
        operation: event.data.operation,
        keyId: event.data.keyId,
        version: event.data.version,
        detail: { recipientId: event.data.recipientId ?? null, ...(event.data.fromVersion === undefined ? {} : { fromVersion: event.data.fromVersion }) },
      };
    case 'KeyUseFailed':
      return {
        operation: event.data.operation,
        outcome: 'failed',
        keyId: event.data.keyId,
        version: event.data.version,
        detail: { code: event.data.code, reason: event.data.reason },
      };
    case 'DekRewrapStarted':
      return {
        operation: 'start-rewrap',
        keyId: event.data.kekId,
        version: event.data.toVersion,
        tenantId: event.data.tenantId,
        detail: { jobId: event.data.jobId, dekVersions: event.data.dekVersions },
      };
    case 'DekRewrapped':
      return {
        operation: 'rewrap-key',
        keyId: event.data.dekId,
        version: event.data.dekVersion,
        tenantId: event.data.tenantId,
        detail: { jobId: event.data.jobId, kekId: event.data.kekId, fromKekVersion: event.data.fromKekVersion, toKekVersion: event.data.toKekVersion, changed: event.data.changed },
      };
    case 'DekRewrapSkipped':
      return {
        operation: 'rewrap-key',
        outcome: 'failed',
        keyId: event.data.dekId,
        version: event.data.dekVersion,
        detail: { jobId: event.data.jobId, kekId: event.data.kekId, toKekVersion: event.data.toKekVersion, code: event.data.code, reason: event.data.reason },
      };
    case 'DekRewrapCompleted':
      return {
        operation: 'complete-rewrap',
        keyId: event.data.kekId,
        version: event.data.toVersion,
        detail: { jobId: event.data.jobId, result: event.data.outcome, rewrapped: event.data.rewrapped, skipped: event.data.skipped },
      };
    case 'PrincipalTokenRotated':
      return { operation: 'rotate-principal-token', detail: { principalId: event.data.principalId } };
    case 'RotationDueRaised':
      return { operation: 'raise-rotation-due', keyId: event.data.keyId, version: event.data.version, detail: { reason: event.data.reason } };
    case 'SchedulerLeaseTaken':
      return { operation: 'take-scheduler-lease', detail: { holder: event.data.holder, until: event.data.until } };
    case 'ApprovalIndexed':
      return about(subjects, event.data.approvalId, { operation: 'index-approval', detail: { approvalId: event.data.approvalId } });
    case 'KeyUseDenied':
      return {
        operation: event.data.operation,
        outcome: 'denied',
        keyId: event.data.keyId,
        version: event.data.version,
        detail: { code: event.data.code, reason: event.data.reason },
      };
    case 'CrossTenantAccessDenied':
      return {
        operation: event.data.operation,
        outcome: 'denied',
        keyId: event.data.keyId,
        actor: event.data.principalId,
        detail: { code: 'KEY.NOT_FOUND', reason: 'key of another tenant', principalTenantId: event.data.principalTenantId },
      };
    case 'PrincipalRegistered':
      return {
        operation: 'register-principal',
        tenantId: event.data.tenantId,
        detail: { principalId: event.data.principalId, name: event.data.name, roles: event.data.roles.join(' ') },
      };
    case 'PrincipalRevoked':
      return { operation: 'revoke-principal', detail: { principalId: event.data.principalId } };
    case 'RecipientRegistered':
      return {
        operation: 'register-recipient',
        tenantId: event.data.tenantId,
        detail: { recipientId: event.data.id, name: event.data.name, publicKeyFingerprint: event.data.publicKeyFingerprint },
      };
    case 'ApprovalRequested':
      return {
        operation: 'request-approval',
        keyId: event.data.keyId,
        version: event.data.version,
        tenantId: event.data.tenantId,
        detail: { approvalId: event.data.approvalId, requestedOperation: event.data.operation, required: event.data.required },
      };
    case 'ApprovalGranted':
      return about(subjects, event.data.approvalId, { operation: 'approve', detail: { approvalId: event.data.approvalId } });
    case 'ApprovalDenied':
      return about(subjects, event.data.approvalId, {
        operation: 'deny-approval',
        outcome: 'denied',
        detail: { approvalId: event.data.approvalId, reason: event.data.reason },
      });
    case 'ApprovalCancelled':
      return about(subjects, event.data.approvalId, { operation: 'cancel-approval', detail: { approvalId: event.data.approvalId } });
    case 'ApprovalExecuted':
      return about(subjects, event.data.approvalId, {
        operation: 'execute-approval',
        outcome: event.data.outcome,
        detail: { approvalId: event.data.approvalId },
      });
    case 'CeremonyOpened':
      return {
        operation: 'open-ceremony',
        keyId: event.data.keyId,
        detail: { ceremonyId: event.data.ceremonyId, purpose: event.data.purpose, witnesses: event.data.witnesses.length },
      };
    case 'CeremonyStepRecorded':
      return about(subjects, event.data.ceremonyId, { operation: 'record-ceremony-step', detail: { ceremonyId: event.data.ceremonyId, step: event.data.step } });
    case 'CeremonyAttested':
      return about(subjects, event.data.ceremonyId, { operation: 'attest-ceremony', detail: { ceremonyId: event.data.ceremonyId, witness: event.data.witness } });
    case 'CeremonyClosed':
      return { operation: 'close-ceremony', keyId: event.data.keyId, detail: { ceremonyId: event.data.ceremonyId, purpose: event.data.purpose } };
    default: {
      const _exhaustive: never = event;
      throw new Error(`Unmapped read-side event ${JSON.stringify(_exhaustive)}`);
    }
  }
}

function lifecycle(event: ProjectedEvent & { type: KeyEventType; data: { keyId: string } }, version: number | null, detail: AuditDetail = {}): Described {
  return { operation: LIFECYCLE_OPERATIONS[event.type], keyId: event.data.keyId, version, detail };
}

/** An approval or ceremony event, attributed to the key its request or ceremony named. */
function about(subjects: ReadonlyMap<string, AuditSubject>, subjectId: string, described: Described): Described {
  const subject = subjects.get(subjectId);
  return subject ? { ...described, keyId: subject.keyId, version: subject.version } : described;
}

/**
 * An event type the read side does not know yet still gets an entry (the runner reports the type):
 * its operation is the type in kebab case, and its outcome follows the past-tense naming rule
 * (`…Denied` denied, `…Failed` failed).
 */
function describeUnknown(recorded: RecordedEvent): Described {
  const data = (recorded.data ?? {}) as { keyId?: unknown; version?: unknown };
  return {
    operation: recorded.type.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/[^A-Za-z0-9-]+/g, '-').toLowerCase(),
    outcome: /Denied$/.test(recorded.type) ? 'denied' : /Failed$/.test(recorded.type) ? 'failed' : 'success',
    keyId: typeof data.keyId === 'string' ? data.keyId : null,
    version: Number.isInteger(data.version) ? (data.version as number) : null,
  };
}
