import { decodeCursor } from '../paging.js';
import type { AuditEntry, AuditOutcome } from './audit-entry.js';

export interface AuditFilter {
  /** Entries recorded at or after this instant (ISO-8601). */
  readonly from?: string;
  /** Entries recorded strictly before this instant. */
  readonly to?: string;
  readonly tenantId?: string;
  readonly keyId?: string;
  /** The acting principal's id. */
  readonly principal?: string;
  readonly operation?: string;
  /** Any of these operations (used by the compliance and lineage views). */
  readonly operations?: readonly string[];
  readonly version?: number;
  readonly outcome?: AuditOutcome;
}

export const AUDIT_ORDERS = ['asc', 'desc'] as const;
export type AuditOrder = (typeof AUDIT_ORDERS)[number];

export interface AuditQuery extends AuditFilter {
  /** By position: `asc` oldest first (the log's order), `desc` newest first. */
  readonly order: AuditOrder;
  readonly limit: number;
  /** Continue after this entry (in the query's order). */
  readonly after?: AuditCursor;
}

/**
 * Entries are ordered by recording time, then position: the log's order, and an order that an
 * index on time serves, so that a `from`/`to` window never scans the whole view.
 */
export interface AuditCursor {
  readonly order: AuditOrder;
  readonly recordedAt: string;
  readonly position: number;
}

export const auditCursorOf = (entry: AuditEntry, order: AuditOrder): AuditCursor => ({
  order,
  recordedAt: entry.recordedAt,
  position: entry.position,
});

export const readAuditCursor = (cursor: string, order: AuditOrder): AuditCursor =>
  decodeCursor(cursor, (value): value is AuditCursor => {
    const c = value as Partial<AuditCursor> | null;
    return (
      typeof c === 'object' &&
      c !== null &&
      c.order === order &&
      typeof c.recordedAt === 'string' &&
      Number.isSafeInteger(c.position) &&
      (c.position ?? -1) >= 0
    );
  });
