import type { EventStore, RecordedEvent, Subscription } from '@keyledger/event-store';
import { CheckpointMovedError, type ReadModelStorage } from '../storage/port.js';
import { applyBatch, describeUnknown } from './apply-batch.js';
import type { Projection } from './projection.js';

export interface RunnerLogger {
  warn(message: string): void;
  error(message: string): void;
}

export interface RunnerOptions {
  /** Most events committed in one transaction while catching up. */
  readonly batchSize?: number;
  /** Wait before a failed projection tries again from its checkpoint. */
  readonly retryDelayMs?: number;
  readonly logger?: RunnerLogger;
  /** Called after each commit, so that readers waiting for a position can look again at once. */
  readonly onCommit?: () => void;
}

export type RunnerState = 'stopped' | 'running' | 'failed';

export interface RunnerStats {
  /** Events applied by this runner since it was created (across restarts of its subscription). */
  readonly applied: number;
  readonly batches: number;
}

const silent: RunnerLogger = { warn: () => undefined, error: () => undefined };

/**
 * Keeps one projection up to date: subscribes to the global log after the projection's checkpoint,
 * gathers events into batches (a full batch, or whatever arrived once the subscription goes idle),
 * and commits each batch with its checkpoint. A restart resumes from the checkpoint, not from zero.
 *
 * If the checkpoint moved under it (a rebuild from the CLI, another runner), it re-reads it and
 * resumes from there. If a batch cannot be applied, it records the failure with its position,
 * stops, and tries again from the checkpoint after a delay: nothing is skipped.
 */
export class ProjectionRunner {
  private subscription: Subscription | null = null;
  private buffer: RecordedEvent[] = [];
  private committed = 0;
  private flushing: Promise<void> = Promise.resolve();
  private idleFlushScheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private runState: RunnerState = 'stopped';
  private applied = 0;
  private batches = 0;
  private readonly batchSize: number;
  private readonly retryDelayMs: number;
  private readonly logger: RunnerLogger;
  private readonly onCommit: () => void;

  constructor(
    readonly projection: Projection,
    private readonly store: EventStore,
    private readonly storage: ReadModelStorage,
    options: RunnerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1_000;
    this.retryDelayMs = options.retryDelayMs ?? 5_000;
    this.logger = options.logger ?? silent;
    this.onCommit = options.onCommit ?? (() => undefined);
  }

  get state(): RunnerState {
    return this.runState;
  }

  /** The position this runner has committed (the storage's checkpoint is the authority). */
  get position(): number {
    return this.committed;
  }

  stats(): RunnerStats {
    return { applied: this.applied, batches: this.batches };
  }

  async start(): Promise<void> {
    if (this.runState === 'running') return;
    this.runState = 'running';
    await this.subscribeFromCheckpoint();
  }

  /** Stops delivery, commits what was already received, and leaves the checkpoint there. */
  async stop(): Promise<void> {
    const wasRunning = this.runState === 'running';
    this.runState = 'stopped';
    this.clearRetry();
    await this.closeSubscription();
    if (wasRunning) await this.flush();
    await this.flushing;
    this.buffer = [];
  }

  private async subscribeFromCheckpoint(): Promise<void> {
    this.buffer = [];
    this.committed = (await this.storage.checkpoints.get(this.projection.name)).position;
    if (this.runState !== 'running') return;
    this.subscription = this.store.subscribeToAll({
      after: this.committed,
      onEvent: (event) => this.receive(event),
      onError: (error) => void this.fail(error, this.committed + 1),
    });
  }

  private async receive(event: RecordedEvent): Promise<void> {
    if (this.runState !== 'running') return;
    this.buffer.push(event);
    if (this.buffer.length >= this.batchSize) return this.flush();
    this.scheduleIdleFlush();
  }

  /** Events delivered in one go arrive within microtasks; setImmediate runs once delivery pauses. */
  private scheduleIdleFlush(): void {
    if (this.idleFlushScheduled) return;
    this.idleFlushScheduled = true;
    setImmediate(() => {
      this.idleFlushScheduled = false;
      void this.flush();
    });
  }

  /** Commits are serialized; each takes everything buffered by the time it runs. */
  private flush(): Promise<void> {
    const run = this.flushing.then(() => this.commitBuffered());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private async commitBuffered(): Promise<void> {
    const batch = this.buffer.splice(0);
    if (batch.length === 0 || this.runState === 'failed') return;
    try {
      const result = await applyBatch(this.projection, this.storage, batch, this.committed);
      this.committed = result.position;
      this.applied += result.applied;
      this.batches += 1;
      this.onCommit();
      if (result.unknown.length > 0) this.logger.warn(describeUnknown(this.projection.name, result.unknown));
    } catch (error) {
      if (error instanceof CheckpointMovedError) return this.resync(error);
      await this.fail(error, batch[0]!.position);
    }
  }

  /**
   * Another runner (another API process on the same read models) moving the checkpoint forward is
   * routine; moving it back means someone reset the projection (a rebuild), which is worth a line.
   */
  private async resync(moved: CheckpointMovedError): Promise<void> {
    if (moved.actual < moved.expected) this.logger.warn(`projection ${this.projection.name}: ${moved.message} (reset by a rebuild); resuming from there`);
    await this.closeSubscription();
    await this.subscribeFromCheckpoint();
  }

  private async fail(error: unknown, position: number): Promise<void> {
    if (this.runState !== 'running') return;
    this.runState = 'failed';
    // Not `instanceof Error`: errors from a native module may come from another realm.
    const message = typeof (error as { message?: unknown } | null)?.message === 'string' ? (error as Error).message : String(error);
    this.logger.error(`projection ${this.projection.name} stopped at position ${position}: ${message}`);
    await this.closeSubscription();
    this.buffer = [];
    await this.storage.checkpoints
      .recordFailure(this.projection.name, { position, message, at: new Date().toISOString() })
      .catch(() => undefined);
    this.retryTimer = setTimeout(() => void this.retry(), this.retryDelayMs);
    this.retryTimer.unref();
  }

  private async retry(): Promise<void> {
    this.retryTimer = null;
    if (this.runState !== 'failed') return;
    this.runState = 'running';
    await this.subscribeFromCheckpoint().catch((error: unknown) => this.fail(error, this.committed + 1));
  }

  private async closeSubscription(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = null;
    await subscription?.close();
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
