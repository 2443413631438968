import Database from 'better-sqlite3';

/**
 * True when an insert hit UNIQUE(stream_id, revision): another writer took the revision. The
 * revision check inside the write transaction should prevent it; this is the backstop. Any other
 * constraint (say, a duplicate event_id) is a different failure and must not read as a conflict.
 */
export function isStreamRevisionConflict(error: unknown): boolean {
  return (
    error instanceof Database.SqliteError &&
    error.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    error.message.includes('events.stream_id, events.revision')
  );
}
