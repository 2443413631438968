import { serializeEvent, type EventMetadata, type RecordedEvent, type SerializedEvent } from '@keyledger/event-store';
import type { TableNames } from './table-names.js';

export { serializeEvent };
export type { SerializedEvent };

/** One row to insert: an event with the revision and position the batch gave it. */
export interface EventRow extends SerializedEvent {
  readonly position: number;
  readonly eventId: string;
  readonly streamId: string;
  readonly revision: number;
}

/** A row as `pg` returns it: bigint as a string, json parsed, timestamptz as a Date. */
export interface StoredEventRow {
  readonly position: string;
  readonly event_id: string;
  readonly stream_id: string;
  readonly revision: number;
  readonly type: string;
  readonly schema_version: number;
  readonly data: unknown;
  readonly metadata: EventMetadata;
  readonly recorded_at: Date;
}

export const eventColumns = 'position, event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at';

export function toRecordedEvent(row: StoredEventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    streamId: row.stream_id,
    revision: row.revision,
    position: Number(row.position),
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: { ...row.metadata, recordedAt: row.recorded_at.toISOString() },
  };
}

/**
 * Inserts a whole batch in one statement, one array per column. statement_timestamp() is the same
 * for every row and is taken after the log head's lock was granted, so recorded_at never goes
 * backwards along the positions.
 */
export function insertEventsStatement(tables: TableNames, rows: readonly EventRow[]): { sql: string; params: unknown[] } {
  const sql = `
    INSERT INTO ${tables.events} (${eventColumns})
    SELECT position, event_id, stream_id, revision, type, schema_version, data::json, metadata::json, statement_timestamp()
    FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::integer[], $5::text[], $6::integer[], $7::text[], $8::text[])
      AS batch (position, event_id, stream_id, revision, type, schema_version, data, metadata)`;
  const column = <K extends keyof EventRow>(key: K) => rows.map((row) => row[key]);
  const params = [
    column('position'),
    column('eventId'),
    column('streamId'),
    column('revision'),
    column('type'),
    column('schemaVersion'),
    column('data'),
    column('metadata'),
  ];
  return { sql, params };
}
