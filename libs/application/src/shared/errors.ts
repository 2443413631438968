/**
 * Errors of the application layer (beyond the domain's). Like domain errors they carry a stable
 * code and know nothing of HTTP.
 */
export type ApplicationErrorCode =
  | 'RECIPIENT.NOT_FOUND'
  | 'RECIPIENT.TENANT_MISMATCH'
  | 'PRINCIPAL.NOT_FOUND'
  | 'REVISION.PRECONDITION_FAILED'
  | 'CUSTODY.UNAVAILABLE';

export abstract class ApplicationError extends Error {
  abstract readonly code: ApplicationErrorCode;
  constructor(
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class RecipientNotFoundError extends ApplicationError {
  readonly code = 'RECIPIENT.NOT_FOUND' as const;
  constructor(recipientId: string) {
    super(`Recipient ${recipientId} was not found`, { recipientId });
  }
}

export class RecipientTenantMismatchError extends ApplicationError {
  readonly code = 'RECIPIENT.TENANT_MISMATCH' as const;
  constructor(recipientId: string, keyId: string) {
    super(`Recipient ${recipientId} belongs to another tenant than key ${keyId}`, { recipientId, keyId });
  }
}

export class PrincipalNotFoundError extends ApplicationError {
  readonly code = 'PRINCIPAL.NOT_FOUND' as const;
  constructor(principalId: string) {
    super(`Principal ${principalId} was not found`, { principalId });
  }
}

export class PreconditionFailedError extends ApplicationError {
  readonly code = 'REVISION.PRECONDITION_FAILED' as const;
  constructor(keyId: string, expected: number, actual: number) {
    super(`Key ${keyId} is at revision ${actual}, If-Match expected ${expected}`, { keyId, expected, actual });
  }
}
