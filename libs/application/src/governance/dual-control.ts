import { ApprovalError, requiresDualControl, type KeyPurpose } from '@keyledger/domain';
import type { RequestContext } from '../shared/context.js';

export const APPROVALS_ROUTE = '/v1/approvals';

/**
 * No single principal completes a protected operation, whatever its roles: called directly, it
 * is refused with a pointer to the approvals route; it runs only when an approved request
 * executes it on the requester's behalf.
 */
export const assertDualControl = (purpose: KeyPurpose, operation: string, ctx: RequestContext): void => {
  if (!requiresDualControl(purpose, operation) || ctx.approvalId !== undefined) return;
  throw new ApprovalError(
    'APPROVAL.REQUIRED',
    `${operation} of a ${purpose} key needs approval by custodians under dual control: request it with POST ${APPROVALS_ROUTE}`,
    { operation, purpose, approvalsRoute: APPROVALS_ROUTE },
  );
};
