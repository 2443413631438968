import { randomUUID } from 'node:crypto';
import {
  ANY,
  NO_STREAM,
  ErrorType,
  STREAM_EXISTS,
  type WrongExpectedVersionError,
  type AppendExpectedRevision,
  type CurrentRevision,
  type EventData,
  type JSONType,
  type Position,
  type RecordedEvent as EsdbRecordedEvent,
} from '@eventstore/db-client';
import { ConcurrencyError, type EventMetadata, type ExpectedRevision, type NewEvent, type RecordedEvent, type StreamRevision } from '@keyledger/event-store';

/**
 * Pure translations between the port and EventStoreDB: stream names, expected revisions,
 * positions, errors and events. No I/O here, so all of it is unit-tested without a server.
 */

/** Our streams carry a prefix, so one EventStoreDB can hold other systems' streams (and tests' own). */
export const DEFAULT_STREAM_PREFIX = 'keyledger-';

export class StreamNames {
  constructor(readonly prefix: string = DEFAULT_STREAM_PREFIX) {
    // A '$' prefix would collide with EventStoreDB's system streams; an empty one would match them.
    if (prefix === '' || prefix.startsWith('$')) throw new RangeError(`Stream prefix "${prefix}" must be non-empty and not start with $`);
  }

  toEsdb(streamId: string): string {
    return `${this.prefix}${streamId}`;
  }

  /** Our stream id, or null for a stream that is not ours. */
  fromEsdb(esdbStream: string): string | null {
    return esdbStream.startsWith(this.prefix) ? esdbStream.slice(this.prefix.length) : null;
  }
}

export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no-stream':
      return NO_STREAM;
    case 'stream-exists':
      return STREAM_EXISTS;
    default:
      if (!Number.isSafeInteger(expected) || expected < 0) throw new RangeError(`Expected revision ${expected} is not a revision`);
      return BigInt(expected);
  }
}

export function fromEsdbCurrentRevision(current: CurrentRevision | undefined): StreamRevision {
  return typeof current === 'bigint' ? toSafeNumber(current, 'revision') : 'no-stream';
}

/**
 * True when `error` is the client's error of that type. Recognised by its `type` field, not by
 * `instanceof`: a second copy of the client module (test runners isolate module registries)
 * would make instanceof answer false.
 */
export function isEsdbError(error: unknown, type: ErrorType): boolean {
  return typeof error === 'object' && error !== null && (error as { type?: unknown }).type === type;
}

/** WrongExpectedVersionError becomes our ConcurrencyError; every other error is returned unchanged. */
export function toPortError(error: unknown, streamId: string, expected: ExpectedRevision): unknown {
  if (!isEsdbError(error, ErrorType.WRONG_EXPECTED_VERSION)) return error;
  const actual = (error as Pick<WrongExpectedVersionError, 'actualVersion'>).actualVersion;
  return new ConcurrencyError(streamId, expected, fromEsdbCurrentRevision(actual));
}

/**
 * Our `position` on EventStoreDB is the event's place in the transaction log, in bytes. For the
 * events we write (appends are implicit transactions) the commit and the prepare position are the
 * same number, unique per event and increasing along $all. It is NOT dense: consecutive events of
 * ours are separated by the size of each record and by every other stream's records. A JS number
 * holds it exactly up to 2^53 bytes (8 PiB) of log.
 */
export function toPortPosition(position: Position | undefined): number {
  if (!position) throw new Error('EventStoreDB returned an event without its log position: it needs server 22.6 or later');
  return toSafeNumber(position.commit, 'log position');
}

/** Where a forward read of $all starts so that it can return events after `after` (the read is inclusive). */
export function fromPortPosition(after: number): Position {
  return { commit: BigInt(after), prepare: BigInt(after) };
}

interface StoredMetadata extends EventMetadata {
  readonly schemaVersion: number;
}

export function toEventData(event: NewEvent): EventData {
  const data = JSON.stringify(event.data);
  if (data === undefined) throw new TypeError(`Event ${event.type} has data that is not JSON`);
  const { actor, tenantId, correlationId, causationId, idempotencyKey } = event.metadata;
  const metadata: StoredMetadata = { actor, tenantId, correlationId, causationId, idempotencyKey, schemaVersion: event.schemaVersion };
  return {
    id: randomUUID(),
    contentType: 'application/json',
    type: event.type,
    // The client's type admits only objects, arrays and strings; it sends JSON.stringify(data) on
    // the wire and parses it back, so any JSON value round-trips.
    data: event.data as JSONType,
    metadata: metadata as unknown as JSONType,
  };
}

export function toRecordedEvent(event: EsdbRecordedEvent, streamId: string): RecordedEvent {
  const { schemaVersion, actor, tenantId, correlationId, causationId, idempotencyKey } = event.metadata as unknown as StoredMetadata;
  return {
    eventId: event.id,
    streamId,
    revision: toSafeNumber(event.revision, 'revision'),
    position: toPortPosition(event.position),
    type: event.type,
    schemaVersion,
    data: event.data,
    metadata: { actor, tenantId, correlationId, causationId, idempotencyKey, recordedAt: event.created.toISOString() },
  };
}

function toSafeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`EventStoreDB ${what} ${value} exceeds 2^53`);
  return Number(value);
}
