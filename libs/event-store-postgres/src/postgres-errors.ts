const UNIQUE_VIOLATION = '23505';
const STREAM_REVISION_CONSTRAINT = 'events_stream_revision_key';

/**
 * True when an insert hit UNIQUE(stream_id, revision): another writer took the revision. The
 * revision check under the log head's lock should prevent it; this is the backstop. Any other
 * unique violation (a duplicate event_id, say) is a different failure and must not read as a
 * conflict. Recognised by the fields PostgreSQL sends, not by `instanceof`: a second copy of the
 * driver module (test runners isolate module registries) would make instanceof answer false.
 */
export function isStreamRevisionConflict(error: unknown): boolean {
  const failure = error as { code?: unknown; constraint?: unknown } | null;
  return typeof failure === 'object' && failure !== null && failure.code === UNIQUE_VIOLATION && failure.constraint === STREAM_REVISION_CONSTRAINT;
}
