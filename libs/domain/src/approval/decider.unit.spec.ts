import { ApprovalError } from '../errors.js';
import { requiresDualControl, type ApprovalCommand, type ApprovalEvent } from './approval.js';
import { decideApproval, foldApproval } from './decider.js';

const T0 = '2026-12-01T10:00:00.000Z';
const later = (hours: number) => new Date(Date.parse(T0) + hours * 3_600_000).toISOString();

const requested = (required = 2): ApprovalEvent[] =>
  decideApproval(
    {
      type: 'RequestApproval',
      data: { approvalId: 'a1', operation: 'rotate', keyId: 'root-1', version: null, params: {}, requestedBy: 'alice', tenantId: null, required, ttlHours: 24, now: T0 },
    },
    { status: 'absent' },
  );

const given = (...events: ApprovalEvent[][]) => foldApproval(events.flat());
const approve = (custodian: string, now = later(1), isCustodian = true): ApprovalCommand => ({ type: 'Approve', data: { custodian, isCustodian, now } });
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApprovalError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('dual control policy', () => {
  it.each([
    ['root', 'generate', true],
    ['root', 'destroy', true],
    ['root', 'export', true],
    ['root', 'suspend', false],
    ['kek', 'schedule-destruction', true],
    ['kek', 'destroy', false],
    ['kek', 'rotate', false],
    ['dek', 'schedule-destruction', false],
  ] as const)('%s %s needs approval: %s', (purpose, operation, expected) => {
    expect(requiresDualControl(purpose, operation)).toBe(expected);
  });
});

describe('approval decider', () => {
  it('opens a request that expires after its lifetime', () => {
    const state = given(requested());
    expect(state).toMatchObject({ status: 'present', request: { status: 'pending', required: 2, approvals: [], expiresAt: later(24) } });
  });

  it('reaches quorum on the M-th distinct custodian', () => {
    const first = decideApproval(approve('carol'), given(requested()));
    expect(foldApproval([...requested(), ...first])).toMatchObject({ request: { status: 'pending', approvals: ['carol'] } });
    const second = decideApproval(approve('dave'), foldApproval([...requested(), ...first]));
    expect(foldApproval([...requested(), ...first, ...second])).toMatchObject({ request: { status: 'approved', approvals: ['carol', 'dave'] } });
  });

  it("does not count the requester's own approval", () => {
    expect(codeOf(() => decideApproval(approve('alice'), given(requested())))).toBe('APPROVAL.SELF_APPROVAL');
  });

  it('counts the same custodian once', () => {
    const state = given(requested(), decideApproval(approve('carol'), given(requested())));
    expect(codeOf(() => decideApproval(approve('carol'), state))).toBe('APPROVAL.ALREADY_APPROVED');
  });

  it('refuses approvals from non-custodians', () => {
    expect(codeOf(() => decideApproval(approve('eve', later(1), false), given(requested())))).toBe('APPROVAL.NOT_A_CUSTODIAN');
  });

  it('refuses approvals after expiry', () => {
    expect(codeOf(() => decideApproval(approve('carol', later(24)), given(requested())))).toBe('APPROVAL.EXPIRED');
  });

  it('refuses anything once denied, and records who denied', () => {
    const denied = decideApproval({ type: 'Deny', data: { custodian: 'dave', isCustodian: true, reason: 'not scheduled', now: later(1) } }, given(requested()));
    const state = given(requested(), denied);
    expect(state).toMatchObject({ request: { status: 'denied', deniedBy: 'dave' } });
    expect(codeOf(() => decideApproval(approve('carol'), state))).toBe('APPROVAL.NOT_PENDING');
  });

  it('records execution only once, and only when approved', () => {
    const exec: ApprovalCommand = { type: 'RecordExecution', data: { outcome: 'success', result: { keyId: 'root-1' }, now: later(2) } };
    expect(codeOf(() => decideApproval(exec, given(requested(1))))).toBe('APPROVAL.NOT_PENDING');
    const approved = given(requested(1), decideApproval(approve('carol'), given(requested(1))));
    const executed = decideApproval(exec, approved);
    const state = foldApproval([...requested(1), ...decideApproval(approve('carol'), given(requested(1))), ...executed]);
    expect(state).toMatchObject({ request: { status: 'executed', result: { keyId: 'root-1' } } });
    expect(codeOf(() => decideApproval(exec, state))).toBe('APPROVAL.NOT_PENDING');
  });

  it('lets only the requester cancel', () => {
    expect(codeOf(() => decideApproval({ type: 'Cancel', data: { by: 'carol', now: later(1) } }, given(requested())))).toBe('APPROVAL.NOT_A_CUSTODIAN');
    const cancelled = decideApproval({ type: 'Cancel', data: { by: 'alice', now: later(1) } }, given(requested()));
    expect(given(requested(), cancelled)).toMatchObject({ request: { status: 'cancelled' } });
  });
});
