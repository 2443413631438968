import type { AppendResult, EventStore, ExpectedRevision, NewEvent } from '@keyledger/event-store';
import type { Metrics } from './metrics.js';

/** Counts appended events by type; everything else passes through to the adapter. */
export const meteredEventStore = (inner: EventStore, metrics: Metrics): EventStore => {
  const metered = Object.create(inner) as EventStore;
  metered.appendToStream = async (streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> => {
    const result = await inner.appendToStream(streamId, events, expected);
    for (const e of events) metrics.eventsAppended.inc({ type: e.type });
    return result;
  };
  return metered;
};
