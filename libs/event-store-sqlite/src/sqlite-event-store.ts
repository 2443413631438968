import { randomUUID } from 'node:crypto';
import {
  assertExpectedRevision,
  ConcurrencyError,
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
import { EventTable, serializeEvent, type SerializedEvent } from './event-table.js';
import { GroupCommitQueue, type Settled } from './group-commit.js';
import { openSqliteDatabase, type SqliteDatabase } from './sqlite-database.js';
import { isStreamRevisionConflict } from './sqlite-errors.js';

export interface SqliteEventStoreOptions {
  /** How long a writer waits for another process's transaction before failing with SQLITE_BUSY. */
  readonly busyTimeoutMs?: number;
  /** Most appends committed in one transaction. */
  readonly maxBatchSize?: number;
  /** How often subscriptions look for events appended by other processes. */
  readonly pollIntervalMs?: number;
  /** Events read per page while a subscription catches up. */
  readonly subscriptionPageSize?: number;
}

export interface SqliteEventStoreStats {
  /** Write transactions committed; fewer than `appends` when group commit batched them. */
  readonly commits: number;
  /** Appends that were committed. */
  readonly appends: number;
}

interface PendingAppend {
  readonly streamId: string;
  readonly events: readonly SerializedEvent[];
  readonly expected: ExpectedRevision;
}

const defaults = { busyTimeoutMs: 5_000, maxBatchSize: 256, pollIntervalMs: 200, subscriptionPageSize: 500 };

/** The embedded event store: one SQLite file, shareable by several processes. */
export class SqliteEventStore implements EventStore {
  private readonly table: EventTable;
  private readonly transaction: TransactionStatements;
  private readonly queue: GroupCommitQueue<PendingAppend, AppendResult>;
  private readonly notifier = new InProcessNotifier();
  private readonly subscriptions = new SubscriptionSet();
  private readonly settings: Required<SqliteEventStoreOptions>;
  private commits = 0;
  private appends = 0;
  private closed = false;

  /** Opens (and creates, with its folders) the database file. The store owns the handle. */
  static open(filePath: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    const settings = { ...defaults, ...options };
    const database = openSqliteDatabase(filePath, settings.busyTimeoutMs);
    try {
      return new SqliteEventStore(database, settings);
    } catch (error) {
      database.close();
      throw error;
    }
  }

  private constructor(
    /** The open handle, to share with SqliteIdempotencyStore; `close()` closes it. */
    readonly database: SqliteDatabase,
    settings: Required<SqliteEventStoreOptions>,
  ) {
    this.settings = settings;
    this.table = new EventTable(database);
    this.transaction = new TransactionStatements(database);
    this.queue = new GroupCommitQueue((batch) => this.commitBatch(batch), settings.maxBatchSize);
  }

  async appendToStream(streamId: string, events: readonly NewEvent[], expectedRevision: ExpectedRevision): Promise<AppendResult> {
    this.assertOpen();
    if (events.length === 0) throw new RangeError(`Append to ${streamId} needs at least one event`);
    const serialized = events.map(serializeEvent);
    return this.queue.submit({ streamId, events: serialized, expected: expectedRevision });
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    return this.table.readStream(streamId, options.fromRevision, options.maxCount);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    return this.table.readAll(options.after, options.maxCount);
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.table.headPosition();
  }

  subscribeToAll(options: SubscribeOptions): Subscription {
    this.assertOpen();
    const settings = {
      pageSize: this.settings.subscriptionPageSize,
      pollIntervalMs: this.settings.pollIntervalMs,
      notifier: this.notifier,
    };
    return this.subscriptions.track(startCatchUpSubscription(this, settings, options));
  }

  stats(): SqliteEventStoreStats {
    return { commits: this.commits, appends: this.appends };
  }

  /** Stops subscriptions, commits appends already accepted, then closes the handle. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.subscriptions.closeAll();
    try {
      this.queue.drain();
    } finally {
      this.database.close();
    }
  }

  // One transaction (one fsync) for the batch; a savepoint per append isolates their failures.
  private commitBatch(batch: readonly PendingAppend[]): Settled<AppendResult>[] {
    const recordedAt = new Date().toISOString();
    this.transaction.begin.run();
    try {
      const outcomes = batch.map((append) => this.appendInSavepoint(append, recordedAt));
      this.transaction.commit.run();
      this.recordCommit(outcomes);
      return outcomes;
    } catch (error) {
      this.rollbackKeeping(error);
    }
  }

  /** Rolls back what is left of the batch and rethrows the error that caused it, not a rollback failure. */
  private rollbackKeeping(error: unknown): never {
    try {
      if (this.database.inTransaction) this.transaction.rollback.run();
    } catch {
      // The original error says why the batch failed; SQLite discards the transaction on close anyway.
    }
    throw error;
  }

  private appendInSavepoint(append: PendingAppend, recordedAt: string): Settled<AppendResult> {
    this.transaction.savepoint.run();
    try {
      const value = this.insertAppend(append, recordedAt);
      this.transaction.release.run();
      return { ok: true, value };
    } catch (error) {
      // SQLite itself rolls the whole transaction back on some errors (I/O, disk full): the batch fails.
      if (!this.database.inTransaction) throw error;
      this.transaction.rollbackToSavepoint.run();
      this.transaction.release.run();
      return { ok: false, error: this.conflictOr(error, append) };
    }
  }

  private insertAppend({ streamId, events, expected }: PendingAppend, recordedAt: string): AppendResult {
    const current = this.table.streamRevision(streamId);
    assertExpectedRevision(streamId, expected, current);
    let revision = current === 'no-stream' ? -1 : current;
    let lastPosition = 0;
    for (const event of events) {
      revision += 1;
      lastPosition = this.table.insertEvent({ ...event, eventId: randomUUID(), streamId, revision, recordedAt });
    }
    return { nextExpectedRevision: revision, lastPosition };
  }

  private conflictOr(error: unknown, { streamId, expected }: PendingAppend): unknown {
    if (!isStreamRevisionConflict(error)) return error;
    return new ConcurrencyError(streamId, expected, this.table.streamRevision(streamId));
  }

  private recordCommit(outcomes: readonly Settled<AppendResult>[]): void {
    const committed = outcomes.filter((outcome) => outcome.ok).length;
    this.commits += 1;
    this.appends += committed;
    if (committed > 0) this.notifier.notify();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('SqliteEventStore is closed');
  }
}

/** The transaction control statements, prepared once. */
class TransactionStatements {
  readonly begin;
  readonly commit;
  readonly rollback;
  readonly savepoint;
  readonly release;
  readonly rollbackToSavepoint;

  constructor(database: SqliteDatabase) {
    // IMMEDIATE takes the write lock up front, so the revision read below cannot go stale.
    this.begin = database.prepare('BEGIN IMMEDIATE');
    this.commit = database.prepare('COMMIT');
    this.rollback = database.prepare('ROLLBACK');
    this.savepoint = database.prepare('SAVEPOINT append');
    this.release = database.prepare('RELEASE append');
    this.rollbackToSavepoint = database.prepare('ROLLBACK TO append');
  }
}
