import type { EventStore } from '@keyledger/event-store';
import { CHECKPOINT_STREAM } from '../checkpoint/checkpoint.js';
import { AuditError } from '../errors.js';
import { readLog } from '../verify/verify-store.js';

/** An end of an export range: a log position, or an instant (the events recorded from / up to it). */
export type RangeBound = { readonly position: number } | { readonly instant: string };

/** "42" is a position; an ISO-8601 instant with a time zone is an instant. */
export function parseRangeBound(text: string, name: 'from' | 'to'): RangeBound {
  if (/^\d{1,15}$/.test(text) && Number(text) > 0) return { position: Number(text) };
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(text) && !Number.isNaN(Date.parse(text))) return { instant: new Date(text).toISOString() };
  throw new AuditError('AUDIT.INVALID_RANGE', `"${name}" must be a log position (a positive integer) or an ISO-8601 instant with a time zone; got "${text}"`);
}

/**
 * The positions an export covers. Instants are matched against each event's recording time in
 * one pass over the log: the first event recorded at or after `from`, the last at or before `to`.
 */
export async function resolveRange(store: EventStore, from?: RangeBound, to?: RangeBound): Promise<{ fromPosition?: number; toPosition?: number }> {
  const range = { ...(from && 'position' in from ? { fromPosition: from.position } : {}), ...(to && 'position' in to ? { toPosition: to.position } : {}) };
  const fromInstant = from && 'instant' in from ? Date.parse(from.instant) : null;
  const toInstant = to && 'instant' in to ? Date.parse(to.instant) : null;
  if (fromInstant !== null || toInstant !== null) Object.assign(range, await positionsOfInstants(store, fromInstant, toInstant));
  if (range.fromPosition !== undefined && range.toPosition !== undefined && range.fromPosition > range.toPosition) {
    throw new AuditError('AUDIT.INVALID_RANGE', `The range is empty: it starts at position ${range.fromPosition} and ends at ${range.toPosition}`);
  }
  return range;
}

async function positionsOfInstants(store: EventStore, fromInstant: number | null, toInstant: number | null): Promise<{ fromPosition?: number; toPosition?: number }> {
  let fromPosition: number | undefined;
  let toPosition: number | undefined;
  for await (const event of readLog(store, 1000)) {
    if (event.streamId === CHECKPOINT_STREAM) continue;
    const recordedAt = Date.parse(event.metadata.recordedAt);
    if (fromInstant !== null && fromPosition === undefined && recordedAt >= fromInstant) fromPosition = event.position;
    if (toInstant !== null && recordedAt <= toInstant) toPosition = event.position;
  }
  if ((fromInstant !== null && fromPosition === undefined) || (toInstant !== null && toPosition === undefined)) {
    throw new AuditError('AUDIT.INVALID_RANGE', 'No event was recorded in that time range');
  }
  return { ...(fromPosition === undefined ? {} : { fromPosition }), ...(toPosition === undefined ? {} : { toPosition }) };
}
