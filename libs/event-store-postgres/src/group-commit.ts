export type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

interface Entry<Work, Result> {
  readonly work: Work;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit with one transaction in flight: the first piece of work commits at once, and
 * whatever arrives while it commits waits and goes together in the next transaction. Under load
 * batches grow by themselves; alone, an append pays no added latency. `commit` settles each piece
 * of work on its own; if it throws, every piece of that batch gets the error.
 */
export class AsyncGroupCommit<Work, Result> {
  private readonly pending: Entry<Work, Result>[] = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly commit: (batch: readonly Work[]) => Promise<Settled<Result>[]>,
    private readonly maxBatchSize: number,
  ) {
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new RangeError('maxBatchSize must be a positive integer');
  }

  submit(work: Work): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.pending.push({ work, resolve, reject });
      this.start();
    });
  }

  /** Resolves once every piece of work submitted so far is settled. */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private start(): void {
    if (this.running) return;
    this.running = this.commitUntilEmpty().finally(() => {
      this.running = null;
      // Work submitted between the loop's last check and this callback would otherwise wait forever.
      if (this.pending.length > 0) this.start();
    });
  }

  private async commitUntilEmpty(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatchSize);
      let outcomes: Settled<Result>[];
      try {
        outcomes = await this.commit(batch.map((entry) => entry.work));
      } catch (error) {
        for (const entry of batch) entry.reject(error);
        continue;
      }
      batch.forEach((entry, index) => settle(entry, outcomes[index]));
    }
  }
}

function settle<Result>(entry: Entry<unknown, Result>, outcome: Settled<Result> | undefined): void {
  if (!outcome) entry.reject(new Error('Group commit returned no outcome for this work'));
  else if (outcome.ok) entry.resolve(outcome.value);
  else entry.reject(outcome.error);
}
