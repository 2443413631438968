/**
 * True when an insert hit UNIQUE(stream_id, revision): another writer took the revision. The
 * revision check inside the write transaction should prevent it; this is the backstop. Any other
 * constraint (say, a duplicate event_id) is a different failure and must not read as a conflict.
 */
export function isStreamRevisionConflict(error: unknown): boolean {
  // Recognised by shape, not by `instanceof`: the native driver's errors come from the realm that
  // first loaded it, so under a test runner's per-file contexts even `instanceof Error` can fail.
  const failure = error as { name?: unknown; code?: unknown; message?: unknown };
  return (
    typeof error === 'object' &&
    error !== null &&
    failure.name === 'SqliteError' &&
    failure.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    typeof failure.message === 'string' &&
    failure.message.includes('events.stream_id, events.revision')
  );
}
