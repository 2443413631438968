import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { EventStore, Subscription } from '@keyledger/event-store';
import { EVENT_STORE } from '../../shared/tokens.js';
import { DekRewrapJob } from './dek-rewrap-job.js';
import { KeyHierarchy } from './key-hierarchy.js';

const RETRY_MS = 30_000;
/** ConcurrencyError's code: compared by shape, as errors cross module boundaries under test runners. */
const CONFLICT = 'CONCURRENCY.CONFLICT';

/**
 * Starts the rewrap job of a KEK whenever it rotates (whoever rotated it: an administrator, an
 * approved request, the rotation scheduler, another process), and at startup resumes every job
 * a crash interrupted. Jobs run one at a time, in the background; a failed job is retried later.
 */
@Injectable()
export class DekRewrapWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('DekRewrapWorker');
  private readonly pending = new Set<string>();
  private readonly failed = new Set<string>();
  private subscription: Subscription | null = null;
  private draining: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(
    private readonly job: DekRewrapJob,
    private readonly hierarchy: KeyHierarchy,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const head = await this.store.headPosition();
    this.subscription = this.store.subscribeToAll({
      after: head,
      onEvent: (event) => {
        if (event.type === 'KeyRotated') this.enqueue((event.data as { keyId: string }).keyId);
      },
      onError: (error) => this.logger.warn(`rewrap trigger stopped: ${error.message}`),
    });
    for (const key of (await this.hierarchy.current()).allKeys()) if (key.purpose === 'kek') this.pending.add(key.keyId);
    this.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.subscription?.close();
    await this.draining;
  }

  /** Resolves once every queued job has run (for the CLI and tests). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  enqueue(kekId: string): void {
    if (this.stopping) return;
    this.pending.add(kekId);
    this.drain();
  }

  private drain(): void {
    if (this.draining || this.stopping) return;
    this.draining = this.runPending().finally(() => {
      this.draining = null;
      if (this.pending.size > 0) this.drain();
    });
  }

  private async runPending(): Promise<void> {
    for (const kekId of this.pending) {
      if (this.stopping) return;
      this.pending.delete(kekId);
      await this.runOne(kekId);
    }
  }

  private async runOne(kekId: string): Promise<void> {
    try {
      const summary = await this.job.run(kekId, () => this.stopping);
      if (summary?.finished) {
        this.logger.log(`rewrapped ${summary.rewrapped} DEK versions of KEK ${kekId} under version ${summary.toVersion} (${summary.skipped} skipped)`);
      }
    } catch (error) {
      // Another process is running this job: it will finish it.
      if ((error as { code?: unknown }).code === CONFLICT) return;
      this.logger.warn(`rewrap of KEK ${kekId} stopped, retrying later: ${(error as Error).message}`);
      this.retryLater(kekId);
    }
  }

  private retryLater(kekId: string): void {
    this.failed.add(kekId);
    if (this.stopping || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      const again = [...this.failed];
      this.failed.clear();
      again.forEach((id) => this.enqueue(id));
    }, RETRY_MS);
    this.retryTimer.unref();
  }
}
