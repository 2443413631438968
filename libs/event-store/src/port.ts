/**
 * The event store port. Every adapter (SQLite, PostgreSQL, EventStoreDB) implements it and runs
 * the shared contract suite in `contract.ts`.
 *
 * Revisions are per stream and 0-based (the first event of a stream has revision 0).
 * Positions are global, 1-based, strictly increasing in commit order as readers see it.
 */
export type ExpectedRevision = 'no-stream' | 'any' | 'stream-exists' | number;

export interface EventMetadata {
  /** Principal id of who caused the event (or `system:…`). */
  readonly actor: string;
  readonly tenantId: string | null;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly idempotencyKey: string | null;
}

export interface NewEvent {
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

export interface RecordedEvent<Data = unknown> {
  readonly eventId: string;
  readonly streamId: string;
  readonly revision: number;
  readonly position: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: Data;
  readonly metadata: EventMetadata & { readonly recordedAt: string };
}

export interface AppendResult {
  /** Revision of the last event appended: pass it as the expected revision of the next append. */
  readonly nextExpectedRevision: number;
  /** Global position of the last event appended. */
  readonly lastPosition: number;
}

export interface ReadStreamOptions {
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Read events with a position strictly greater than this (0 reads from the start). */
  readonly after?: number;
  readonly maxCount?: number;
}

export interface Subscription {
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** Deliver events with a position strictly greater than this. */
  readonly after: number;
  /** Called with each event in global order; a rejection stops the subscription and reaches onError. */
  readonly onEvent: (event: RecordedEvent) => Promise<void> | void;
  readonly onError?: (error: Error) => void;
}

export interface EventStore {
  /**
   * Appends atomically (all or none). Throws ConcurrencyError when the stream's revision is not the
   * expected one; any other failure is a different error.
   */
  appendToStream(streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult>;
  /** Events of one stream in revision order; an empty array when the stream does not exist. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** Events of all streams in global order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Position of the last event readers can see (0 when empty). */
  headPosition(): Promise<number>;
  /** Catch-up subscription: replays from `after`, then delivers new events as they are committed. */
  subscribeToAll(options: SubscribeOptions): Subscription;
  close(): Promise<void>;
}

export class ConcurrencyError extends Error {
  readonly code = 'CONCURRENCY.CONFLICT' as const;
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no-stream',
  ) {
    super(`Stream ${streamId} is at revision ${actual}, expected ${expected}`);
    this.name = 'ConcurrencyError';
  }
}

/**
 * Idempotency records for `Idempotency-Key`: one per (scope, key). `reserve` is atomic across
 * processes: exactly one caller gets `reserved`; others see the pending or completed record.
 */
export interface IdempotencyRecord {
  readonly scope: string;
  readonly key: string;
  readonly requestHash: string;
  readonly state: 'pending' | 'completed';
  readonly statusCode: number | null;
  readonly responseBody: string | null;
  readonly createdAt: string;
}

export type ReserveResult = { outcome: 'reserved' } | { outcome: 'exists'; record: IdempotencyRecord };

export interface IdempotencyStore {
  reserve(scope: string, key: string, requestHash: string, now: string): Promise<ReserveResult>;
  complete(scope: string, key: string, statusCode: number, responseBody: string): Promise<void>;
  /** Drops a pending reservation whose request failed without appending, so a retry can run. */
  release(scope: string, key: string): Promise<void>;
  get(scope: string, key: string): Promise<IdempotencyRecord | null>;
}
