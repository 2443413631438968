import type { InProcessNotifier } from './in-process-notifier.js';
import type { EventStore, SubscribeOptions, Subscription } from './port.js';

export interface CatchUpSettings {
  /** Events read per round trip while catching up. */
  readonly pageSize: number;
  /** Upper bound on the wait for new events: commits by other processes are only seen by polling. */
  readonly pollIntervalMs: number;
  /** Wakes the subscription early when this process commits. */
  readonly notifier: InProcessNotifier;
}

/**
 * A catch-up subscription built only on `readAll`: pages from the last delivered position, then
 * waits for a local commit or the poll interval. Delivery is strictly sequential (each `onEvent` is
 * awaited) and the cursor only moves past an event once it was handled, so there are no duplicates
 * and no gaps as long as the store's positions are never made visible out of order.
 */
export function startCatchUpSubscription(
  source: Pick<EventStore, 'readAll'>,
  settings: CatchUpSettings,
  options: SubscribeOptions,
): Subscription {
  let closed = false;
  let delivering = false;
  let handlerFailed = false;
  let cancelWait: () => void = () => undefined;

  const deliverPage = async (after: number): Promise<{ cursor: number; full: boolean }> => {
    const page = await source.readAll({ after, maxCount: settings.pageSize });
    let cursor = after;
    for (const event of page) {
      if (closed) break;
      delivering = true;
      try {
        await options.onEvent(event);
      } catch (error) {
        handlerFailed = true;
        throw error;
      } finally {
        delivering = false;
      }
      cursor = event.position;
    }
    return { cursor, full: page.length === settings.pageSize };
  };

  const run = async (): Promise<void> => {
    let cursor = options.after;
    while (!closed) {
      const seenVersion = settings.notifier.currentVersion;
      const { cursor: next, full } = await deliverPage(cursor);
      cursor = next;
      if (full || closed) continue;
      const wait = settings.notifier.waitForCommit(seenVersion, settings.pollIntervalMs);
      cancelWait = wait.cancel;
      await wait.done;
    }
  };

  const done = run().catch((error: unknown) => {
    // A read failing because the store closed under a closed subscription is not a failure.
    if (closed && !handlerFailed) return;
    closed = true;
    const failure = error instanceof Error ? error : new Error(String(error));
    // Without onError the rejection surfaces as unhandled rather than being silently dropped.
    if (options.onError) options.onError(failure);
    else throw failure;
  });

  return {
    async close() {
      closed = true;
      cancelWait();
      // Awaiting from inside onEvent would deadlock; the loop stops right after that handler.
      // A failure was already reported (onError or unhandled rejection): close itself succeeds.
      if (!delivering) await done.catch(() => undefined);
    },
  };
}
