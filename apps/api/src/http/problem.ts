import { HttpException } from '@nestjs/common';
import { DomainError, type DomainErrorCode } from '@keyledger/domain';
import { ApplicationError, type ApplicationErrorCode } from '@keyledger/application';
import { ConcurrencyError } from '@keyledger/event-store';
import { CustodyOperationError, MaterialNotFoundError } from '@keyledger/custody';
import { ReadModelError } from '@keyledger/read-models';

/** Codes that only the HTTP edge raises. */
export type EdgeErrorCode =
  | 'REQUEST.MALFORMED_JSON'
  | 'REQUEST.TOO_LARGE'
  | 'REQUEST.UNSUPPORTED_MEDIA_TYPE'
  | 'REQUEST.INVALID'
  | 'AUTH.UNAUTHENTICATED'
  | 'AUTH.FORBIDDEN'
  | 'ROUTE.NOT_FOUND'
  | 'METHOD.NOT_ALLOWED'
  | 'IDEMPOTENCY.KEY_REUSED'
  | 'IDEMPOTENCY.IN_PROGRESS'
  | 'INTERNAL.ERROR';

export class HttpProblem extends Error {
  constructor(
    readonly code: EdgeErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpProblem';
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extension: string]: unknown;
}

const DOMAIN_STATUS: Record<DomainErrorCode, number> = {
  'KEY.NOT_FOUND': 404,
  'KEY.ALREADY_EXISTS': 409,
  'KEY.INVALID_TRANSITION': 409,
  'KEY.VERSION_NOT_FOUND': 404,
  'KEY.USAGE_NOT_ALLOWED': 409,
  'KEY.DESTRUCTION_NOT_DUE': 409,
  'KEY.INVALID_PARENT': 422,
  'POLICY.CRYPTOPERIOD_EXCEEDS_MAXIMUM': 422,
  'POLICY.WAITING_PERIOD_OUT_OF_RANGE': 422,
  'VALIDATION.INVALID_INPUT': 400,
  'APPROVAL.REQUIRED': 403,
  'APPROVAL.NOT_FOUND': 404,
  'APPROVAL.NOT_PENDING': 409,
  'APPROVAL.SELF_APPROVAL': 403,
  'APPROVAL.ALREADY_APPROVED': 409,
  'APPROVAL.EXPIRED': 409,
  'APPROVAL.NOT_A_CUSTODIAN': 403,
  'CEREMONY.NOT_FOUND': 404,
  'CEREMONY.CLOSED': 409,
  'CEREMONY.UNKNOWN_WITNESS': 422,
  'CEREMONY.BAD_SIGNATURE': 422,
  'CEREMONY.ATTESTATIONS_MISSING': 409,
};

const APPLICATION_STATUS: Record<ApplicationErrorCode, number> = {
  'RECIPIENT.NOT_FOUND': 404,
  'RECIPIENT.TENANT_MISMATCH': 422,
  'PRINCIPAL.NOT_FOUND': 404,
  'REVISION.PRECONDITION_FAILED': 412,
  'CUSTODY.UNAVAILABLE': 503,
};

const EDGE_STATUS: Record<EdgeErrorCode, number> = {
  'REQUEST.MALFORMED_JSON': 400,
  'REQUEST.TOO_LARGE': 413,
  'REQUEST.UNSUPPORTED_MEDIA_TYPE': 415,
  'REQUEST.INVALID': 400,
  'AUTH.UNAUTHENTICATED': 401,
  'AUTH.FORBIDDEN': 403,
  'ROUTE.NOT_FOUND': 404,
  'METHOD.NOT_ALLOWED': 405,
  'IDEMPOTENCY.KEY_REUSED': 422,
  'IDEMPOTENCY.IN_PROGRESS': 409,
  'INTERNAL.ERROR': 500,
};

/**
 * Custodian failures that are not the caller's doing: the HSM or KMS is unreachable or throttling
 * (503, retry later), refuses keyledger itself (502), or holds the key in a state that forbids
 * the use (409). Their details stay generic: the custodian's own message is for the logs.
 */
const CUSTODIAN_FAULTS: Readonly<Record<string, { status: number; detail: string }>> = {
  'CUSTODY.UNAVAILABLE': { status: 503, detail: 'The key custodian is unavailable; retry later' },
  'CUSTODY.ACCESS_DENIED': { status: 502, detail: 'The key custodian refused keyledger access to the key' },
  'CUSTODY.INVALID_KEY_STATE': { status: 409, detail: "The custodian's key is in a state that does not allow this operation" },
};

const titleOf = (code: string): string =>
  code
    .split('.')
    .pop()!
    .toLowerCase()
    .split('_')
    .map((w, i) => (i === 0 ? w[0]!.toUpperCase() + w.slice(1) : w))
    .join(' ');

const problem = (code: string, status: number, detail: string, extra: Record<string, unknown> = {}): Problem => ({
  type: `urn:keyledger:problem:${code.toLowerCase()}`,
  title: titleOf(code),
  status,
  detail,
  code,
  ...extra,
});

/**
 * The one translation from typed errors to RFC 9457 problems. Unknown errors become a 500 whose
 * detail says nothing of the cause (it may hold anything); the caller logs the cause.
 */
export const toProblem = (error: unknown): Problem => {
  if (error instanceof HttpProblem) return problem(error.code, EDGE_STATUS[error.code], error.message, error.extra);
  if (error instanceof DomainError) {
    // Validation answers list every issue at the top level, where clients look for them.
    const errors = error.details['errors'];
    return problem(error.code, DOMAIN_STATUS[error.code], error.message, { details: error.details, ...(errors ? { errors } : {}) });
  }
  if (error instanceof ApplicationError) {
    return problem(error.code, APPLICATION_STATUS[error.code], error.message, { details: error.details });
  }
  if (error instanceof ReadModelError) {
    // The read side is behind or stopped: the request may succeed when retried.
    return problem(error.code, 503, error.message, { details: error.details });
  }
  if (error instanceof ConcurrencyError) {
    return problem(error.code, 409, `The key changed concurrently (stream at revision ${error.actual}); read it again and retry`);
  }
  if (error instanceof MaterialNotFoundError) return problem(error.code, 409, 'The key material is no longer held by the custodian');
  if (error instanceof CustodyOperationError) return problem(error.code, 502, 'The key custodian could not complete the operation');
  const coded = error as { code?: unknown; message?: unknown };
  const custodianFault = typeof coded.code === 'string' ? CUSTODIAN_FAULTS[coded.code] : undefined;
  if (custodianFault) return problem(coded.code as string, custodianFault.status, custodianFault.detail);
  if (typeof coded.code === 'string' && /^CUSTODY\.[A-Z_]+$/.test(coded.code) && coded.code !== 'CUSTODY.OPERATION_FAILED') {
    return problem(coded.code, 422, String(coded.message));
  }
  if (error instanceof HttpException) return fromHttpException(error);
  return problem('INTERNAL.ERROR', 500, 'An internal error occurred; the correlation id identifies it in the logs');
};

const fromHttpException = (error: HttpException): Problem => {
  const status = error.getStatus();
  if (status === 404) return problem('ROUTE.NOT_FOUND', 404, 'No such route');
  if (status === 405) return problem('METHOD.NOT_ALLOWED', 405, 'Method not allowed on this route');
  if (status === 413) return problem('REQUEST.TOO_LARGE', 413, 'The request body is too large');
  if (status >= 400 && status < 500) return problem('REQUEST.INVALID', status, error.message);
  return problem('INTERNAL.ERROR', 500, 'An internal error occurred; the correlation id identifies it in the logs');
};
