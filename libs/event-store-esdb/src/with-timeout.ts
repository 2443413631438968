/**
 * A call to EventStoreDB that did not answer in time. The client's own deadlines do not cover a
 * server that accepts the connection and never answers (appendToStream then hangs for ever), so
 * every call is raced against this. For an append the outcome is unknown: it may have been
 * written. Retrying it is safe only where the caller's expected revision makes it so.
 */
export class StoreTimeoutError extends Error {
  readonly code = 'STORE.TIMEOUT' as const;
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`EventStoreDB did not answer ${operation} within ${timeoutMs} ms`);
    this.name = 'StoreTimeoutError';
  }
}

/** Settles with `work`, or rejects with StoreTimeoutError after `timeoutMs` and calls `onTimeout`. */
export function withTimeout<T>(work: Promise<T>, timeoutMs: number, operation: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new StoreTimeoutError(operation, timeoutMs));
    }, timeoutMs);
  });
  // A late rejection of `work` after the timeout has nobody waiting for it: it must not go unhandled.
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
