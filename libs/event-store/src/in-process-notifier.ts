/**
 * Wakes subscriptions of this process when it commits events, so they do not wait for the next
 * poll. It carries no data: subscribers re-read the store, which stays the only source of truth.
 *
 * The version counter closes the gap between "read found nothing new" and "started waiting": a
 * waiter that passes the version it saw before reading returns at once if a commit came between.
 */
export class InProcessNotifier {
  private version = 0;
  private readonly waiters = new Set<() => void>();

  get currentVersion(): number {
    return this.version;
  }

  notify(): void {
    this.version += 1;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * Resolves after a commit newer than `seenVersion`, after `timeoutMs`, or when `cancel` is
   * called, whichever comes first.
   */
  waitForCommit(seenVersion: number, timeoutMs: number): { readonly done: Promise<void>; cancel(): void } {
    let wake: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      if (this.version !== seenVersion) return resolve();
      const timer = setTimeout(() => wake(), timeoutMs);
      wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
    });
    return { done, cancel: () => wake() };
  }
}
