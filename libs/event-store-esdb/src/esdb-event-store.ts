import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  ErrorType,
  START,
  type AllStreamResolvedEvent,
  type ReadPosition,
  type ResolvedEvent,
  type StreamingRead,
} from '@eventstore/db-client';
import {
  InProcessNotifier,
  startCatchUpSubscription,
  SubscriptionSet,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '@keyledger/event-store';
import {
  fromPortPosition,
  isEsdbError,
  StreamNames,
  toEsdbExpectedRevision,
  toEventData,
  toPortError,
  toPortPosition,
  toRecordedEvent,
} from './esdb-mapping.js';
import { withTimeout } from './with-timeout.js';

export interface EsdbEventStoreOptions {
  /** `esdb://host:2113?tls=false` and the like; see the client's connection string format. */
  readonly connectionString: string;
  /** Prefix of every stream this store writes and reads (default `keyledger-`). */
  readonly streamPrefix?: string;
  /** Our own deadline on every call (the client's can hang; STACK.md). */
  readonly timeoutMs?: number;
  /** Events read per round trip on $all. */
  readonly pageSize?: number;
  /** How often subscriptions look for events appended by other processes. */
  readonly pollIntervalMs?: number;
}

const defaults = { timeoutMs: 10_000, pageSize: 500, pollIntervalMs: 200 };

/**
 * The event store on EventStoreDB. Streams map one to one (with a prefix), EventStoreDB enforces
 * the expected revision, and the global order is $all filtered to our prefix, read page by page
 * (the 6.x client filters only subscriptions, not reads). `position` is the event's log position:
 * increasing and unique, but not dense (see toPortPosition).
 */
export class EsdbEventStore implements EventStore {
  private readonly names: StreamNames;
  private readonly notifier = new InProcessNotifier();
  private readonly subscriptions = new SubscriptionSet();
  private readonly settings: Omit<Required<EsdbEventStoreOptions>, 'connectionString' | 'streamPrefix'>;
  private closed = false;

  static open(options: EsdbEventStoreOptions): EsdbEventStore {
    return new EsdbEventStore(EventStoreDBClient.connectionString(options.connectionString), options);
  }

  private constructor(
    private readonly client: EventStoreDBClient,
    options: EsdbEventStoreOptions,
  ) {
    this.names = new StreamNames(options.streamPrefix);
    this.settings = {
      timeoutMs: options.timeoutMs ?? defaults.timeoutMs,
      pageSize: options.pageSize ?? defaults.pageSize,
      pollIntervalMs: options.pollIntervalMs ?? defaults.pollIntervalMs,
    };
  }

  /** Resolves once the server answers a read (of a stream that need not exist); rejects otherwise. */
  async ready(): Promise<void> {
    await this.readStream('readiness-probe', { maxCount: 1 });
  }

  async appendToStream(streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) throw new RangeError(`Append to ${streamId} needs at least one event`);
    const stream = this.names.toEsdb(streamId);
    const append = this.client.appendToStream(stream, events.map(toEventData), { expectedRevision: toEsdbExpectedRevision(expectedRevision) });
    const result = await withTimeout(append, this.settings.timeoutMs, `append to ${streamId}`).catch((error: unknown) => {
      throw toPortError(error, streamId, expectedRevision);
    });
    const nextExpectedRevision = Number(result.nextExpectedRevision);
    // The append's own answer gives the transaction's position, not the last event's: read it back.
    const [last] = await this.readStream(streamId, { fromRevision: nextExpectedRevision, maxCount: 1 });
    if (!last) throw new Error(`Event ${nextExpectedRevision} of ${streamId} was appended but cannot be read back`);
    this.notifier.notify();
    return { nextExpectedRevision, lastPosition: last.position };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const read = this.client.readStream(this.names.toEsdb(streamId), {
      fromRevision: BigInt(options.fromRevision ?? 0),
      ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
      direction: FORWARDS,
    });
    try {
      const resolved = await this.collect(read, `read of ${streamId}`);
      return resolved.flatMap(({ event }) => (event ? [toRecordedEvent(event, streamId)] : []));
    } catch (error) {
      if (isEsdbError(error, ErrorType.STREAM_NOT_FOUND)) return [];
      throw error;
    }
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const wanted = options.maxCount ?? Number.POSITIVE_INFINITY;
    const found: RecordedEvent[] = [];
    let floor = options.after ?? 0;
    if (wanted <= 0) return found;
    for (;;) {
      const from: ReadPosition = floor > 0 ? fromPortPosition(floor) : START;
      const page = await this.readAllPage(from, FORWARDS);
      for (const { event } of page.ours) {
        if (event.position <= floor) continue; // forward reads include the event at `from`
        found.push(event);
        if (found.length >= wanted) return found;
      }
      if (page.last === null || page.size < this.settings.pageSize) return found;
      floor = Math.max(floor, page.last);
    }
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    let from: ReadPosition = END;
    for (;;) {
      const page = await this.readAllPage(from, BACKWARDS);
      const newest = page.ours[0];
      if (newest) return newest.event.position;
      if (page.last === null || page.size < this.settings.pageSize) return 0;
      from = fromPortPosition(page.last); // backward reads exclude the event at `from`
    }
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    this.assertOpen();
    const settings = { pageSize: this.settings.pageSize, pollIntervalMs: this.settings.pollIntervalMs, notifier: this.notifier };
    return this.subscriptions.track(startCatchUpSubscription(this, settings, options));
  }

  /** Stops subscriptions and closes the connection. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.subscriptions.closeAll();
    await withTimeout(this.client.dispose(), this.settings.timeoutMs, 'close');
  }

  /** One page of $all: our events in it (converted), and the position of the page's last record. */
  private async readAllPage(
    from: ReadPosition,
    direction: typeof FORWARDS | typeof BACKWARDS,
  ): Promise<{ ours: { streamId: string; event: RecordedEvent }[]; last: number | null; size: number }> {
    const read = this.client.readAll({ fromPosition: from, maxCount: this.settings.pageSize, direction });
    const page = await this.collect<AllStreamResolvedEvent>(read, 'read of $all');
    const ours = page.flatMap(({ event }) => {
      const streamId = event ? this.names.fromEsdb(event.streamId) : null;
      return event && streamId !== null ? [{ streamId, event: toRecordedEvent(event, streamId) }] : [];
    });
    const lastEvent = page.at(-1)?.event;
    return { ours, last: lastEvent ? toPortPosition(lastEvent.position) : null, size: page.length };
  }

  /** Drains a streaming read within our deadline; on timeout the read is cancelled. */
  private async collect<E extends ResolvedEvent | AllStreamResolvedEvent>(read: StreamingRead<E>, operation: string): Promise<E[]> {
    const events: E[] = [];
    const drain = (async () => {
      for await (const event of read) events.push(event);
    })();
    await withTimeout(drain, this.settings.timeoutMs, operation, () => void read.cancel().catch(() => undefined));
    return events;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('EsdbEventStore is closed');
  }
}
