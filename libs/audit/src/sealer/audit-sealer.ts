import { ConcurrencyError, type EventStore, type RecordedEvent, type Subscription } from '@keyledger/event-store';
import { AuditError } from '../errors.js';
import { toHex } from '../hashes.js';
import { recordedEventLeafHash } from '../sealed-event.js';
import {
  CHECKPOINT_EVENT_TYPE,
  CHECKPOINT_SCHEMA_VERSION,
  CHECKPOINT_STREAM,
  parseCheckpointRecord,
  signedHeadBytes,
  type CheckpointHead,
  type CheckpointRecord,
} from '../checkpoint/checkpoint.js';
import { readLatestCheckpointEvent } from '../checkpoint/latest-checkpoint.js';
import type { CheckpointSigner } from '../signer/port.js';
import { SealedTree, type Leaf } from './sealed-tree.js';

export interface AuditLogger {
  event(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
}

export interface AuditSealerOptions {
  readonly store: EventStore;
  readonly signer: CheckpointSigner;
  /** A checkpoint at least every this many events... */
  readonly checkpointEvery: number;
  /** ...and within this many milliseconds of an event, whichever comes first. */
  readonly checkpointIntervalMs: number;
  readonly logger: AuditLogger;
  readonly now?: () => Date;
}

export interface SealerStatus {
  readonly sequence: number;
  readonly treeSize: number;
  readonly lastPosition: number;
  readonly pendingEvents: number;
  readonly keyId: string;
}

const PAGE_SIZE = 1000;
const SHUTDOWN_ATTEMPTS = 3;

/**
 * Follows the global log in order and seals it: each event's leaf hash joins a pending batch, and
 * every `checkpointEvery` events or `checkpointIntervalMs` (and at shutdown) the batch is appended
 * to the tree and a signed checkpoint is written to the checkpoint stream.
 *
 * Several processes may run a sealer on one store. The checkpoint stream's expected revision
 * makes sure only one checkpoint extends each one; a sealer that loses that race follows the
 * winner's checkpoints as they arrive in the log, and writes again only once the winner has been
 * quiet for two intervals.
 */
export class AuditSealer {
  private tree = SealedTree.empty();
  private pending: Leaf[] = [];
  /** Position of the last event taken into account, sealed or pending. */
  private seenPosition = 0;
  private subscription: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private foreignCheckpointSeenAt = Number.NEGATIVE_INFINITY;
  private broken: Error | null = null;
  private tickQueued = false;
  private readonly now: () => Date;

  constructor(private readonly options: AuditSealerOptions) {
    if (!Number.isInteger(options.checkpointEvery) || options.checkpointEvery < 1) throw new RangeError('checkpointEvery must be a positive integer');
    this.now = options.now ?? (() => new Date());
  }

  async start(): Promise<void> {
    await this.exclusive(() => this.resyncFromStore());
    this.subscribe();
    this.timer = setInterval(() => this.scheduleTick(), this.options.checkpointIntervalMs);
    this.timer.unref();
  }

  /** Seals everything appended so far (used before an export) and returns the newest head. */
  sealNow(): Promise<SealerStatus> {
    return this.exclusive(async () => {
      await this.catchUpAndSealAll();
      return this.sealedStatus();
    });
  }

  /** Without following the log: resumes from the store, seals everything pending, and stops (the CLI's `audit seal`). */
  sealOnce(): Promise<SealerStatus> {
    return this.exclusive(async () => {
      await this.resyncFromStore();
      await this.catchUpAndSealAll();
      return this.sealedStatus();
    });
  }

  /**
   * Stops following the log, then seals what is left: the shutdown checkpoint. A failure here is
   * logged, not thrown, so that the rest of the shutdown (closing the store) still happens.
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.subscription?.close();
    this.subscription = null;
    await this.exclusive(() => this.catchUpAndSealAll()).catch((error: unknown) => {
      this.options.logger.event('error', 'audit checkpoint at shutdown not written', { error: (error as Error).message });
    });
  }

  status(): SealerStatus {
    return {
      sequence: this.tree.sequence,
      treeSize: this.tree.treeSize,
      lastPosition: this.tree.lastPosition,
      pendingEvents: this.pending.length,
      keyId: this.options.signer.keyId,
    };
  }

  private sealedStatus(): SealerStatus {
    if (this.broken) throw new AuditError('AUDIT.CHECKPOINTS_DAMAGED', `The last checkpoint is damaged (${this.broken.message}); run "keyledger audit verify"`);
    return this.status();
  }

  // ── following the log ───────────────────────────────────────────────────

  private subscribe(): void {
    this.subscription = this.options.store.subscribeToAll({
      after: this.seenPosition,
      onEvent: (event) => this.exclusive(() => this.take(event)),
      onError: (error) => this.onSubscriptionError(error),
    });
  }

  private onSubscriptionError(error: Error): void {
    this.options.logger.event('error', 'audit sealer lost its subscription; it will resume', { error: error.message });
    this.subscription = null;
    setTimeout(() => {
      if (this.timer === null) return; // stopped meanwhile
      void this.exclusive(() => this.resyncFromStore()).then(() => this.subscribe());
    }, this.options.checkpointIntervalMs).unref();
  }

  /** Takes one event of the global log into account, once, whoever delivered it. */
  private async take(event: RecordedEvent): Promise<void> {
    if (this.broken || event.position <= this.seenPosition) return;
    this.seenPosition = event.position;
    if (event.streamId === CHECKPOINT_STREAM) return this.followCheckpoint(event);
    this.pending.push({ position: event.position, hash: recordedEventLeafHash(event) });
    if (this.pending.length >= this.options.checkpointEvery && this.mayWrite()) await this.trySeal(true);
  }

  /** One tick at a time: ticks that fall while sealing is slow are dropped, not queued up. */
  private scheduleTick(): void {
    if (this.tickQueued) return;
    this.tickQueued = true;
    void this.exclusive(async () => {
      this.tickQueued = false;
      if (this.pending.length > 0 && this.mayWrite()) await this.trySeal(false);
    });
  }

  /** Another process's checkpoint: adopt it when it seals exactly what we would have sealed. */
  private async followCheckpoint(event: RecordedEvent): Promise<void> {
    const parsed = parseCheckpointRecord(event.data);
    if (!parsed.ok || parsed.record.head.sequence <= this.tree.sequence) return;
    this.foreignCheckpointSeenAt = this.now().getTime();
    const { head, leaves } = parsed.record;
    const batch = this.pending.slice(0, leaves.length);
    const ours = this.tree.extend(batch, head.signedAt, head.keyId);
    if (sameHead(ours.head, head) && leaves.length === batch.length) {
      this.tree = ours.tree;
      this.pending = this.pending.slice(batch.length);
      return;
    }
    this.options.logger.event('warn', 'a checkpoint from another process does not match this process view of the log; re-reading', {
      sequence: head.sequence,
    });
    await this.resyncFromStore();
    await this.catchUp();
  }

  private mayWrite(): boolean {
    return this.now().getTime() - this.foreignCheckpointSeenAt > 2 * this.options.checkpointIntervalMs;
  }

  // ── writing checkpoints ─────────────────────────────────────────────────

  /** Seals pending batches; failures are logged and retried at the next tick, never thrown at the log's reader. */
  private async trySeal(fullBatchesOnly: boolean): Promise<boolean> {
    try {
      return await this.sealPending(fullBatchesOnly);
    } catch (error) {
      this.options.logger.event('error', 'audit checkpoint could not be written; will retry', { error: (error as Error).message });
      return false;
    }
  }

  /** Returns false when another process wrote the next checkpoint first. */
  private async sealPending(fullBatchesOnly: boolean): Promise<boolean> {
    const minimum = fullBatchesOnly ? this.options.checkpointEvery : 1;
    while (this.pending.length >= minimum) {
      const batch = this.pending.slice(0, this.options.checkpointEvery);
      const { tree, head } = this.tree.extend(batch, this.now().toISOString(), this.options.signer.keyId);
      const record = await this.recordOf(head, tree, batch);
      if (!(await this.append(record))) return false;
      this.tree = tree;
      this.pending = this.pending.slice(batch.length);
      this.options.logger.event('debug', 'audit checkpoint written', { sequence: head.sequence, treeSize: head.treeSize, lastPosition: head.lastPosition });
    }
    return true;
  }

  private async recordOf(head: CheckpointHead, tree: SealedTree, batch: readonly Leaf[]): Promise<CheckpointRecord> {
    const signature = await this.options.signer.sign(signedHeadBytes(head));
    return {
      head,
      signature: signature.toString('base64'),
      publicKey: this.options.signer.publicKey.toString('base64'),
      leaves: batch.map((leaf) => [leaf.position, toHex(leaf.hash)] as const),
      frontier: tree.frontierHex(),
    };
  }

  private async append(record: CheckpointRecord): Promise<boolean> {
    const expected = this.tree.sequence === 0 ? 'no-stream' : this.tree.sequence - 1;
    const metadata = { actor: 'system:audit-sealer', tenantId: null, correlationId: `checkpoint-${record.head.sequence}`, causationId: null, idempotencyKey: null };
    try {
      await this.options.store.appendToStream(CHECKPOINT_STREAM, [{ type: CHECKPOINT_EVENT_TYPE, schemaVersion: CHECKPOINT_SCHEMA_VERSION, data: record, metadata }], expected);
      return true;
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      this.foreignCheckpointSeenAt = this.now().getTime();
      this.options.logger.event('info', 'another process wrote this audit checkpoint first; following its checkpoints', { sequence: record.head.sequence });
      return false;
    }
  }

  /** Reads to the head of the log, then seals every pending event, catching up with other writers if they race us. */
  private async catchUpAndSealAll(): Promise<void> {
    if (this.broken) return;
    for (let attempt = 1; attempt <= SHUTDOWN_ATTEMPTS; attempt += 1) {
      await this.catchUp();
      if (await this.sealPending(false)) return;
      await this.resyncFromStore();
    }
    this.options.logger.event('warn', 'audit checkpoint not written: other processes kept writing first', {});
  }

  // ── state from the store ────────────────────────────────────────────────

  /** Resumes from the last checkpoint in the store. A record that does not hold together stops sealing. */
  private async resyncFromStore(): Promise<void> {
    const latest = await readLatestCheckpointEvent(this.options.store);
    this.pending = [];
    if (!latest) {
      this.tree = SealedTree.empty();
      this.seenPosition = 0;
      return;
    }
    try {
      const parsed = parseCheckpointRecord(latest.data);
      if (!parsed.ok) throw new Error(parsed.reason);
      this.tree = SealedTree.fromRecord(parsed.record);
      this.seenPosition = this.tree.lastPosition;
      this.broken = null;
    } catch (error) {
      this.broken = error instanceof Error ? error : new Error(String(error));
      this.options.logger.event('error', 'audit sealing stopped: the last checkpoint is damaged; run `keyledger audit verify`', {
        position: latest.position,
        reason: this.broken.message,
      });
    }
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const page = await this.options.store.readAll({ after: this.seenPosition, maxCount: PAGE_SIZE });
      for (const event of page) await this.take(event);
      if (page.length < PAGE_SIZE || this.broken) return;
    }
  }

  /** Serializes everything that touches the sealer's state: the subscription, the timer, sealNow and stop. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function sameHead(a: CheckpointHead, b: CheckpointHead): boolean {
  return a.sequence === b.sequence && a.treeSize === b.treeSize && a.rootHash === b.rootHash && a.chainHash === b.chainHash && a.lastPosition === b.lastPosition;
}
