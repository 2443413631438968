import { InProcessNotifier, type EventStore } from '@keyledger/event-store';
import { ProjectionFailedError, ReadModelCatchingUpError } from './errors.js';
import { ProjectionRunner, type RunnerLogger, type RunnerState } from './runner/projection-runner.js';
import { PROJECTIONS } from './runner/projections.js';
import {
  PROJECTION_NAMES,
  type ProjectionCheckpoint,
  type ProjectionName,
  type ReadModelStorage,
} from './storage/port.js';

export interface ReadSideOptions {
  readonly logger?: RunnerLogger;
  readonly batchSize?: number;
  readonly retryDelayMs?: number;
  /** How long a query waits for the projections to reach the head it read before giving up. */
  readonly catchUpTimeoutMs?: number;
}

export interface ProjectionStatus extends ProjectionCheckpoint {
  readonly head: number;
  /** Events of the log the projection has not applied yet. */
  readonly lag: number;
  /** The runner of this process, if it runs one. */
  readonly runner: RunnerState | 'none';
}

/** How far each projection is, read from the storage (any process may have moved it). */
export async function projectionStatus(
  store: EventStore,
  storage: ReadModelStorage,
  runners: ReadonlyMap<ProjectionName, ProjectionRunner> = new Map(),
): Promise<ProjectionStatus[]> {
  const [head, checkpoints] = await Promise.all([store.headPosition(), storage.checkpoints.all()]);
  return checkpoints.map((checkpoint) => ({
    ...checkpoint,
    head,
    lag: Math.max(0, head - checkpoint.position),
    runner: runners.get(checkpoint.projection)?.state ?? 'none',
  }));
}

/**
 * The read side of one process: a runner per projection, and the wait that gives queries
 * read-your-writes (a query reads the log's head, then waits until its projections reach it).
 */
export class ReadSide {
  private readonly runners: Map<ProjectionName, ProjectionRunner>;
  private readonly commits = new InProcessNotifier();
  private readonly catchUpTimeoutMs: number;

  constructor(
    private readonly store: EventStore,
    readonly storage: ReadModelStorage,
    options: ReadSideOptions = {},
  ) {
    this.catchUpTimeoutMs = options.catchUpTimeoutMs ?? 10_000;
    const runnerOptions = {
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
      onCommit: () => this.commits.notify(),
    };
    this.runners = new Map(PROJECTION_NAMES.map((name) => [name, new ProjectionRunner(PROJECTIONS[name], store, storage, runnerOptions)]));
  }

  runner(name: ProjectionName): ProjectionRunner {
    return this.runners.get(name)!;
  }

  async start(): Promise<void> {
    await Promise.all([...this.runners.values()].map((runner) => runner.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.runners.values()].map((runner) => runner.stop()));
  }

  status(): Promise<ProjectionStatus[]> {
    return projectionStatus(this.store, this.storage, this.runners);
  }

  /**
   * Resolves once every named projection has applied the log up to its head as read now, so that
   * a query answers with every command acknowledged before it. The stored checkpoints decide, since
   * another process (a rebuild) may have moved them.
   */
  async caughtUp(projections: readonly ProjectionName[]): Promise<void> {
    const head = await this.store.headPosition();
    const deadline = Date.now() + this.catchUpTimeoutMs;
    for (;;) {
      const seen = this.commits.currentVersion;
      const behind = (await this.storage.checkpoints.all()).filter((c) => projections.includes(c.projection) && c.position < head);
      if (behind.length === 0) return;
      this.assertRunning(behind);
      if (Date.now() >= deadline) throw new ReadModelCatchingUpError(behind[0]!.projection, behind[0]!.position, head);
      // A local commit wakes this at once; a commit by another process is seen on the next look.
      await this.commits.waitForCommit(seen, 25).done;
    }
  }

  private assertRunning(behind: readonly ProjectionCheckpoint[]): void {
    for (const checkpoint of behind) {
      // Without a running runner here (stopped, or failed and waiting to retry) waiting cannot help.
      if (this.runners.get(checkpoint.projection)?.state !== 'running') {
        throw new ProjectionFailedError(checkpoint.projection, checkpoint.failure);
      }
    }
  }
}
