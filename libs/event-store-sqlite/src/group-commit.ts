export type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

interface Entry<Work, Result> {
  readonly work: Work;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: work submitted while a flush is pending (the same turn of the event loop) is handed
 * to `commit` together, so concurrent callers share one transaction and one fsync. Batches are
 * bounded so one flush never holds the write lock for long. `commit` settles each piece of work on
 * its own; if it throws, the whole batch failed and every caller gets that error.
 */
export class GroupCommitQueue<Work, Result> {
  private readonly pending: Entry<Work, Result>[] = [];
  private flushScheduled = false;

  constructor(
    private readonly commit: (batch: readonly Work[]) => Settled<Result>[],
    private readonly maxBatchSize: number,
  ) {
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new RangeError('maxBatchSize must be a positive integer');
  }

  submit(work: Work): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.pending.push({ work, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Commits everything still queued, synchronously: accepted work is not dropped on close. */
  drain(): void {
    while (this.pending.length > 0) this.flushOneBatch();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate rather than a microtask: it also gathers work from I/O callbacks of this turn.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushOneBatch();
      if (this.pending.length > 0) this.scheduleFlush();
    });
  }

  private flushOneBatch(): void {
    const batch = this.pending.splice(0, this.maxBatchSize);
    if (batch.length === 0) return;
    let outcomes: Settled<Result>[];
    try {
      outcomes = this.commit(batch.map((entry) => entry.work));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    batch.forEach((entry, index) => settle(entry, outcomes[index]));
  }
}

function settle<Result>(entry: Entry<unknown, Result>, outcome: Settled<Result> | undefined): void {
  if (!outcome) entry.reject(new Error('Group commit returned no outcome for this work'));
  else if (outcome.ok) entry.resolve(outcome.value);
  else entry.reject(outcome.error);
}
