import { instantMillis } from '../time.js';
import type { KeyPurpose } from '../key/types.js';

/**
 * Dual control (SPEC §5): root-key operations and the scheduling of a KEK's destruction need M
 * distinct custodians' approval, none of them the requester. An approval request is an aggregate
 * of its own, decided here without I/O; the application executes the operation on the M-th approval.
 */
export const PROTECTED_OPERATIONS = [
  'generate',
  'activate',
  'rotate',
  'revoke',
  'schedule-destruction',
  'destroy',
  'export',
] as const;
export type ProtectedOperation = (typeof PROTECTED_OPERATIONS)[number];

export const DEFAULT_REQUIRED_APPROVALS = 2;
export const DEFAULT_APPROVAL_TTL_HOURS = 24;

/**
 * Whether an operation on a key of this purpose needs approval. A KEK's scheduled destruction
 * does; the destroy that ends an approved schedule does not. Every listed root operation does.
 */
export const requiresDualControl = (purpose: KeyPurpose, operation: string): boolean => {
  if (purpose === 'root') return (PROTECTED_OPERATIONS as readonly string[]).includes(operation);
  if (purpose === 'kek') return operation === 'schedule-destruction';
  return false;
};

export interface ApprovalSubject {
  readonly operation: ProtectedOperation;
  readonly keyId: string | null;
  readonly version: number | null;
  /** The operation's parameters (for `generate`, the generate body); never key material. */
  readonly params: Readonly<Record<string, unknown>>;
}

export type ApprovalEvent =
  | {
      type: 'ApprovalRequested';
      data: ApprovalSubject & {
        approvalId: string;
        requestedBy: string;
        tenantId: string | null;
        required: number;
        requestedAt: string;
        expiresAt: string;
      };
    }
  | { type: 'ApprovalGranted'; data: { approvalId: string; custodian: string; grantedAt: string } }
  | { type: 'ApprovalDenied'; data: { approvalId: string; custodian: string; reason: string | null; deniedAt: string } }
  | { type: 'ApprovalCancelled'; data: { approvalId: string; cancelledBy: string; cancelledAt: string } }
  | { type: 'ApprovalExecuted'; data: { approvalId: string; executedAt: string; outcome: 'success' | 'failed'; result: Record<string, unknown> } };

export const APPROVAL_EVENT_TYPES = [
  'ApprovalRequested',
  'ApprovalGranted',
  'ApprovalDenied',
  'ApprovalCancelled',
  'ApprovalExecuted',
] as const satisfies readonly ApprovalEvent['type'][];

export const isApprovalEvent = (e: { type: string }): e is ApprovalEvent =>
  (APPROVAL_EVENT_TYPES as readonly string[]).includes(e.type);

export type ApprovalStatus = 'pending' | 'approved' | 'executed' | 'failed' | 'denied' | 'cancelled';

export interface ApprovalRequest extends ApprovalSubject {
  readonly approvalId: string;
  readonly requestedBy: string;
  readonly tenantId: string | null;
  readonly required: number;
  readonly approvals: readonly string[];
  readonly status: ApprovalStatus;
  readonly requestedAt: string;
  readonly expiresAt: string;
  readonly deniedBy: string | null;
  readonly result: Record<string, unknown> | null;
}

export type ApprovalState = { status: 'absent' } | { status: 'present'; request: ApprovalRequest };
export const initialApprovalState = (): ApprovalState => ({ status: 'absent' });

export type ApprovalCommand =
  | {
      type: 'RequestApproval';
      data: ApprovalSubject & { approvalId: string; requestedBy: string; tenantId: string | null; required: number; ttlHours: number; now: string };
    }
  | { type: 'Approve'; data: { custodian: string; isCustodian: boolean; now: string } }
  | { type: 'Deny'; data: { custodian: string; isCustodian: boolean; reason: string | null; now: string } }
  | { type: 'Cancel'; data: { by: string; now: string } }
  | { type: 'RecordExecution'; data: { outcome: 'success' | 'failed'; result: Record<string, unknown>; now: string } };

/** Expiry is derived from time, never stored: a pending request past `expiresAt` can do nothing. */
export const isExpired = (request: ApprovalRequest, now: string): boolean =>
  request.status === 'pending' && instantMillis(now) >= instantMillis(request.expiresAt, 'expiresAt');

export const approvalStatusAt = (request: ApprovalRequest, now: string): ApprovalStatus | 'expired' =>
  isExpired(request, now) ? 'expired' : request.status;
