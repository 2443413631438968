import { serializeEvent, type EventMetadata, type RecordedEvent, type SerializedEvent } from '@keyledger/event-store';
import type { SqliteDatabase } from './sqlite-database.js';

/**
 * The events table. AUTOINCREMENT keeps positions from ever being reused after the last event is
 * deleted; SQLite's single writer means positions become visible in commit order, so a reader
 * tailing by position never skips one. UNIQUE(stream_id, revision) backs up the revision check.
 */
const schema = `
  CREATE TABLE IF NOT EXISTS events (
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       TEXT    NOT NULL UNIQUE,
    stream_id      TEXT    NOT NULL,
    revision       INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    data           TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    UNIQUE (stream_id, revision)
  )`;

interface EventRow {
  readonly position: number;
  readonly event_id: string;
  readonly stream_id: string;
  readonly revision: number;
  readonly type: string;
  readonly schema_version: number;
  readonly data: string;
  readonly metadata: string;
  readonly recorded_at: string;
}

export interface InsertEventRow {
  readonly eventId: string;
  readonly streamId: string;
  readonly revision: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: string;
  readonly metadata: string;
  readonly recordedAt: string;
}

export { serializeEvent };
export type { SerializedEvent };

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    streamId: row.stream_id,
    revision: row.revision,
    position: row.position,
    type: row.type,
    schemaVersion: row.schema_version,
    data: JSON.parse(row.data) as unknown,
    metadata: { ...(JSON.parse(row.metadata) as EventMetadata), recordedAt: row.recorded_at },
  };
}

const columns = 'position, event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at';
/** SQLite reads a negative LIMIT as "no limit". */
const noLimit = -1;

/** Creates the table if needed and prepares every statement the store runs. */
export class EventTable {
  private readonly insert;
  private readonly selectStream;
  private readonly selectAll;
  private readonly selectHead;
  private readonly selectStreamRevision;

  constructor(database: SqliteDatabase) {
    database.exec(schema);
    this.insert = database.prepare<[InsertEventRow]>(
      `INSERT INTO events (event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at)
       VALUES (@eventId, @streamId, @revision, @type, @schemaVersion, @data, @metadata, @recordedAt)`,
    );
    this.selectStream = database.prepare<[string, number, number], EventRow>(
      `SELECT ${columns} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?`,
    );
    this.selectAll = database.prepare<[number, number], EventRow>(
      `SELECT ${columns} FROM events WHERE position > ? ORDER BY position LIMIT ?`,
    );
    this.selectHead = database.prepare<[], number>('SELECT COALESCE(MAX(position), 0) FROM events').pluck();
    this.selectStreamRevision = database
      .prepare<[string], number | null>('SELECT MAX(revision) FROM events WHERE stream_id = ?')
      .pluck();
  }

  /** Inserts one event and returns its position. */
  insertEvent(row: InsertEventRow): number {
    return Number(this.insert.run(row).lastInsertRowid);
  }

  readStream(streamId: string, fromRevision = 0, maxCount = noLimit): RecordedEvent[] {
    return this.selectStream.all(streamId, fromRevision, maxCount).map(toRecordedEvent);
  }

  readAll(after = 0, maxCount = noLimit): RecordedEvent[] {
    return this.selectAll.all(after, maxCount).map(toRecordedEvent);
  }

  headPosition(): number {
    return this.selectHead.get() ?? 0;
  }

  streamRevision(streamId: string): number | 'no-stream' {
    return this.selectStreamRevision.get(streamId) ?? 'no-stream';
  }
}
