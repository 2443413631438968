import type { RecordedEvent } from '@keyledger/event-store';
import { READ_SIDE_EVENT_TYPES } from '../events.js';
import type { ReadModelStorage, UnknownEventReport } from '../storage/port.js';
import type { Projection } from './projection.js';

export interface BatchResult {
  /** The new checkpoint: the position of the batch's last event. */
  readonly position: number;
  readonly applied: number;
  readonly unknown: readonly UnknownEventReport[];
}

/**
 * The one way events reach a read model, for the live runner and for a rebuild alike: project the
 * batch, then commit its writes with the checkpoint moved from `expectedPosition` to its last event.
 */
export async function applyBatch(
  projection: Projection,
  storage: ReadModelStorage,
  events: readonly RecordedEvent[],
  expectedPosition: number,
): Promise<BatchResult> {
  const last = events[events.length - 1];
  if (!last) return { position: expectedPosition, applied: 0, unknown: [] };
  const writes = await projection.project(events, storage);
  const unknown = events.filter((event) => !READ_SIDE_EVENT_TYPES.has(event.type)).map(({ position, type }) => ({ position, type }));
  await storage.commit({ expectedPosition, position: last.position, writes, unknown });
  return { position: last.position, applied: events.length, unknown };
}

/** One log line for the unknown event types of a batch (never one line per event). */
export const describeUnknown = (projection: string, unknown: readonly UnknownEventReport[]): string => {
  const types = [...new Set(unknown.map((u) => u.type))].join(', ');
  return `projection ${projection}: ${unknown.length} event(s) of unknown type(s) ${types} (first at position ${unknown[0]?.position}); checkpoint moved past them`;
};
