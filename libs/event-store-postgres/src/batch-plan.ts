import {
  assertExpectedRevision,
  ConcurrencyError,
  type AppendResult,
  type ExpectedRevision,
  type StreamRevision,
} from '@keyledger/event-store';
import type { EventRow, SerializedEvent } from './event-rows.js';
import type { Settled } from './group-commit.js';

export interface PendingAppend {
  readonly streamId: string;
  readonly events: readonly SerializedEvent[];
  readonly expected: ExpectedRevision;
}

export interface BatchPlan {
  /** Rows of the appends that passed their revision check, in position order. */
  readonly rows: readonly EventRow[];
  /** One outcome per append, in the batch's order. */
  readonly outcomes: readonly Settled<AppendResult>[];
  /** The log head once the rows are in. */
  readonly head: number;
}

/**
 * Decides a batch while the log head is locked: checks each append against its stream's revision
 * (as earlier appends of the same batch leave it) and gives the accepted events consecutive
 * positions after `head`. A refused append takes no position, so the log has no gap.
 */
export function planBatch(
  batch: readonly PendingAppend[],
  revisions: ReadonlyMap<string, number>,
  head: number,
  newEventId: () => string,
): BatchPlan {
  const current = new Map<string, StreamRevision>(revisions);
  const rows: EventRow[] = [];
  let position = head;
  const outcomes = batch.map((append): Settled<AppendResult> => {
    const actual = current.get(append.streamId) ?? 'no-stream';
    try {
      assertExpectedRevision(append.streamId, append.expected, actual);
    } catch (error) {
      if (error instanceof ConcurrencyError) return { ok: false, error };
      throw error;
    }
    let revision = actual === 'no-stream' ? -1 : actual;
    for (const event of append.events) {
      revision += 1;
      position += 1;
      rows.push({ ...event, eventId: newEventId(), streamId: append.streamId, revision, position });
    }
    current.set(append.streamId, revision);
    return { ok: true, value: { nextExpectedRevision: revision, lastPosition: position } };
  });
  return { rows, outcomes, head: position };
}
