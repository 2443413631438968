import { ApprovalError, InvalidInputError } from '../errors.js';
import { instantMillis } from '../time.js';
import {
  PROTECTED_OPERATIONS,
  isExpired,
  type ApprovalCommand,
  type ApprovalEvent,
  type ApprovalRequest,
  type ApprovalState,
} from './approval.js';

const MAX_TTL_HOURS = 24 * 7;

/** decide(command, state) → events for an approval request. Pure: time and roles come in. */
export function decideApproval(command: ApprovalCommand, state: ApprovalState): ApprovalEvent[] {
  if (command.type === 'RequestApproval') return decideRequest(command.data, state);
  if (state.status === 'absent') throw new ApprovalError('APPROVAL.NOT_FOUND', 'No such approval request');
  const request = state.request;
  switch (command.type) {
    case 'Approve':
      return decideApprove(request, command.data);
    case 'Deny':
      assertOpen(request, command.data.now);
      assertCustodian(request, command.data.custodian, command.data.isCustodian);
      return [
        {
          type: 'ApprovalDenied',
          data: { approvalId: request.approvalId, custodian: command.data.custodian, reason: command.data.reason, deniedAt: command.data.now },
        },
      ];
    case 'Cancel':
      assertOpen(request, command.data.now);
      if (command.data.by !== request.requestedBy) {
        throw new ApprovalError('APPROVAL.NOT_A_CUSTODIAN', 'Only the requester may cancel a request', { approvalId: request.approvalId });
      }
      return [{ type: 'ApprovalCancelled', data: { approvalId: request.approvalId, cancelledBy: command.data.by, cancelledAt: command.data.now } }];
    case 'RecordExecution':
      if (request.status !== 'approved') {
        throw new ApprovalError('APPROVAL.NOT_PENDING', `Request ${request.approvalId} is ${request.status}, not approved`);
      }
      return [
        {
          type: 'ApprovalExecuted',
          data: { approvalId: request.approvalId, executedAt: command.data.now, outcome: command.data.outcome, result: command.data.result },
        },
      ];
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

function decideRequest(data: Extract<ApprovalCommand, { type: 'RequestApproval' }>['data'], state: ApprovalState): ApprovalEvent[] {
  if (state.status === 'present') throw new ApprovalError('APPROVAL.NOT_PENDING', `Request ${data.approvalId} exists already`);
  if (!(PROTECTED_OPERATIONS as readonly string[]).includes(data.operation)) {
    throw new InvalidInputError(`${data.operation} is not an operation under dual control`);
  }
  if (!Number.isInteger(data.required) || data.required < 1) throw new InvalidInputError('required approvals must be a positive integer');
  if (!(data.ttlHours > 0 && data.ttlHours <= MAX_TTL_HOURS)) {
    throw new InvalidInputError(`a request lives between 1 hour and ${MAX_TTL_HOURS} hours`);
  }
  if (data.operation !== 'generate' && data.keyId === null) throw new InvalidInputError(`${data.operation} needs a keyId`);
  return [
    {
      type: 'ApprovalRequested',
      data: {
        approvalId: data.approvalId,
        operation: data.operation,
        keyId: data.keyId,
        version: data.version,
        params: data.params,
        requestedBy: data.requestedBy,
        tenantId: data.tenantId,
        required: data.required,
        requestedAt: data.now,
        expiresAt: new Date(instantMillis(data.now) + data.ttlHours * 3_600_000).toISOString(),
      },
    },
  ];
}

function decideApprove(request: ApprovalRequest, data: { custodian: string; isCustodian: boolean; now: string }): ApprovalEvent[] {
  assertOpen(request, data.now);
  assertCustodian(request, data.custodian, data.isCustodian);
  if (request.approvals.includes(data.custodian)) {
    throw new ApprovalError('APPROVAL.ALREADY_APPROVED', 'This custodian has approved the request already; approvals must come from distinct custodians', {
      approvalId: request.approvalId,
    });
  }
  return [{ type: 'ApprovalGranted', data: { approvalId: request.approvalId, custodian: data.custodian, grantedAt: data.now } }];
}

function assertOpen(request: ApprovalRequest, now: string): void {
  if (isExpired(request, now)) {
    throw new ApprovalError('APPROVAL.EXPIRED', `Request ${request.approvalId} expired at ${request.expiresAt}`, { approvalId: request.approvalId });
  }
  if (request.status !== 'pending') {
    throw new ApprovalError('APPROVAL.NOT_PENDING', `Request ${request.approvalId} is ${request.status}`, { approvalId: request.approvalId });
  }
}

function assertCustodian(request: ApprovalRequest, custodian: string, isCustodian: boolean): void {
  if (!isCustodian) throw new ApprovalError('APPROVAL.NOT_A_CUSTODIAN', 'Only custodians may approve or deny', { approvalId: request.approvalId });
  if (custodian === request.requestedBy) {
    throw new ApprovalError('APPROVAL.SELF_APPROVAL', 'The requester cannot approve or deny their own request', { approvalId: request.approvalId });
  }
}

/** evolve(state, event): the request as its events made it. */
export function evolveApproval(state: ApprovalState, event: ApprovalEvent): ApprovalState {
  if (event.type === 'ApprovalRequested') {
    const { approvalId, requestedBy, tenantId, required, requestedAt, expiresAt, operation, keyId, version, params } = event.data;
    return {
      status: 'present',
      request: { approvalId, requestedBy, tenantId, required, requestedAt, expiresAt, operation, keyId, version, params, approvals: [], status: 'pending', deniedBy: null, result: null },
    };
  }
  if (state.status === 'absent') throw new Error(`${event.type} before ApprovalRequested`);
  const request = state.request;
  switch (event.type) {
    case 'ApprovalGranted': {
      const approvals = [...request.approvals, event.data.custodian];
      return { status: 'present', request: { ...request, approvals, status: approvals.length >= request.required ? 'approved' : 'pending' } };
    }
    case 'ApprovalDenied':
      return { status: 'present', request: { ...request, status: 'denied', deniedBy: event.data.custodian } };
    case 'ApprovalCancelled':
      return { status: 'present', request: { ...request, status: 'cancelled' } };
    case 'ApprovalExecuted':
      return {
        status: 'present',
        request: { ...request, status: event.data.outcome === 'success' ? 'executed' : 'failed', result: event.data.result },
      };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

export const foldApproval = (events: readonly ApprovalEvent[]): ApprovalState => events.reduce(evolveApproval, { status: 'absent' });

