/** Errors of the audit tools, with stable codes; the edges turn them into exit codes or problems. */
export type AuditErrorCode = 'AUDIT.NOTHING_SEALED' | 'AUDIT.INVALID_RANGE' | 'AUDIT.CHECKPOINTS_DAMAGED' | 'AUDIT.BUNDLE_UNREADABLE';

export class AuditError extends Error {
  constructor(
    readonly code: AuditErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AuditError';
  }
}
