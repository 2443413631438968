import type { IdempotencyRecord } from './port.js';

/** The columns of an idempotency record in the adapters that keep them in a table (SQLite, PostgreSQL). */
export interface IdempotencyRow {
  readonly scope: string;
  readonly key: string;
  readonly request_hash: string;
  readonly state: 'pending' | 'completed';
  readonly status_code: number | null;
  readonly response_body: string | null;
  readonly created_at: string;
}

export function toIdempotencyRecord(row: IdempotencyRow): IdempotencyRecord {
  return {
    scope: row.scope,
    key: row.key,
    requestHash: row.request_hash,
    state: row.state,
    statusCode: row.status_code,
    responseBody: row.response_body,
    createdAt: row.created_at,
  };
}
