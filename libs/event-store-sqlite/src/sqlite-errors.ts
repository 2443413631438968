/**
 * True when an insert hit UNIQUE(stream_id, revision): another writer took the revision. The
 * revision check inside the write transaction should prevent it; this is the backstop. Any other
 * constraint (say, a duplicate event_id) is a different failure and must not read as a conflict.
 */
export function isStreamRevisionConflict(error: unknown): boolean {
  // Recognised by shape, not by `instanceof`: a second copy of the driver module (test runners
  // isolate module registries) would make instanceof answer false for a real conflict.
  const failure = error as { name?: unknown; code?: unknown; message?: unknown };
  return (
    error instanceof Error &&
    failure.name === 'SqliteError' &&
    failure.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    typeof failure.message === 'string' &&
    failure.message.includes('events.stream_id, events.revision')
  );
}
