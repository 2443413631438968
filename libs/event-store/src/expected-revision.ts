import { ConcurrencyError, type ExpectedRevision } from './port.js';

/** Where a stream stands before an append: the revision of its last event, or `no-stream`. */
export type StreamRevision = number | 'no-stream';

/**
 * The one rule every adapter applies before appending, so that all of them agree on what
 * `no-stream`, `stream-exists`, `any` and an exact revision accept.
 */
export function assertExpectedRevision(streamId: string, expected: ExpectedRevision, actual: StreamRevision): void {
  if (!matchesExpectedRevision(expected, actual)) throw new ConcurrencyError(streamId, expected, actual);
}

function matchesExpectedRevision(expected: ExpectedRevision, actual: StreamRevision): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no-stream':
      return actual === 'no-stream';
    case 'stream-exists':
      return actual !== 'no-stream';
    default:
      return actual === expected;
  }
}
