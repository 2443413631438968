/**
 * Typed domain errors with stable codes. They know nothing of HTTP: the edge maps each code
 * to a status in one exhaustive table.
 */
export type DomainErrorCode =
  | 'KEY.NOT_FOUND'
  | 'KEY.ALREADY_EXISTS'
  | 'KEY.INVALID_TRANSITION'
  | 'KEY.VERSION_NOT_FOUND'
  | 'KEY.USAGE_NOT_ALLOWED'
  | 'KEY.DESTRUCTION_NOT_DUE'
  | 'KEY.INVALID_PARENT'
  | 'POLICY.CRYPTOPERIOD_EXCEEDS_MAXIMUM'
  | 'POLICY.WAITING_PERIOD_OUT_OF_RANGE'
  | 'VALIDATION.INVALID_INPUT'
  | ApprovalErrorCode
  | CeremonyErrorCode;

export type ApprovalErrorCode =
  | 'APPROVAL.REQUIRED'
  | 'APPROVAL.NOT_FOUND'
  | 'APPROVAL.NOT_PENDING'
  | 'APPROVAL.SELF_APPROVAL'
  | 'APPROVAL.ALREADY_APPROVED'
  | 'APPROVAL.EXPIRED'
  | 'APPROVAL.NOT_A_CUSTODIAN';

export type CeremonyErrorCode =
  | 'CEREMONY.NOT_FOUND'
  | 'CEREMONY.CLOSED'
  | 'CEREMONY.UNKNOWN_WITNESS'
  | 'CEREMONY.BAD_SIGNATURE'
  | 'CEREMONY.ATTESTATIONS_MISSING';

export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
  constructor(
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class KeyNotFoundError extends DomainError {
  readonly code = 'KEY.NOT_FOUND' as const;
  /** `keyId` is '' when the decider is asked about an absent stream: it does not know the id there. */
  constructor(keyId: string) {
    super(keyId ? `Key ${keyId} was not found` : 'Key was not found', { keyId });
  }
}

export class KeyAlreadyExistsError extends DomainError {
  readonly code = 'KEY.ALREADY_EXISTS' as const;
  constructor(keyId: string) {
    super(`Key ${keyId} already exists`, { keyId });
  }
}

export class InvalidTransitionError extends DomainError {
  readonly code = 'KEY.INVALID_TRANSITION' as const;
  constructor(command: string, from: string, keyId: string, version: number, why?: string) {
    super(
      `Cannot ${command} version ${version} of key ${keyId}: it is ${from}${why ? ` (${why})` : ''}`,
      { command, from, keyId, version },
    );
  }
}

export class VersionNotFoundError extends DomainError {
  readonly code = 'KEY.VERSION_NOT_FOUND' as const;
  constructor(keyId: string, version: number) {
    super(`Key ${keyId} has no version ${version}`, { keyId, version });
  }
}

export class UsageNotAllowedError extends DomainError {
  readonly code = 'KEY.USAGE_NOT_ALLOWED' as const;
  constructor(keyId: string, version: number, usage: 'protect' | 'process', reason: string) {
    super(`Version ${version} of key ${keyId} may not ${usage}: ${reason}`, { keyId, version, usage, reason });
  }
}

export class DestructionNotDueError extends DomainError {
  readonly code = 'KEY.DESTRUCTION_NOT_DUE' as const;
  constructor(keyId: string, version: number, scheduledFor: string | null) {
    super(
      scheduledFor
        ? `Version ${version} of key ${keyId} may be destroyed only from ${scheduledFor}`
        : `Version ${version} of key ${keyId} has no scheduled destruction`,
      { keyId, version, scheduledFor },
    );
  }
}

export class InvalidParentError extends DomainError {
  readonly code = 'KEY.INVALID_PARENT' as const;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, details);
  }
}

export class CryptoperiodPolicyError extends DomainError {
  readonly code = 'POLICY.CRYPTOPERIOD_EXCEEDS_MAXIMUM' as const;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, details);
  }
}

export class WaitingPeriodError extends DomainError {
  readonly code = 'POLICY.WAITING_PERIOD_OUT_OF_RANGE' as const;
  constructor(days: number, min: number, max: number) {
    super(`Waiting period must be between ${min} and ${max} days, got ${days}`, { days, min, max });
  }
}

export class InvalidInputError extends DomainError {
  readonly code = 'VALIDATION.INVALID_INPUT' as const;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, details);
  }
}

/** Dual control refusals; `code` says which rule. */
export class ApprovalError extends DomainError {
  constructor(
    readonly code: ApprovalErrorCode,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message, details);
  }
}

/** Ceremony refusals; `code` says which rule. */
export class CeremonyError extends DomainError {
  constructor(
    readonly code: CeremonyErrorCode,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message, details);
  }
}
