import type { EventStore, RecordedEvent } from '@keyledger/event-store';
import { CHECKPOINT_STREAM } from '../checkpoint/checkpoint.js';
import type { TrustedKeys } from '../signer/ed25519.js';
import type { VerifyReport } from './report.js';
import { verifySealedLog, type ExpectedCheckpoint } from './sealed-log-verifier.js';

export interface VerifyStoreOptions {
  readonly pageSize?: number;
  /** Called after each page with the last position read and the head position when the run began. */
  readonly onProgress?: (position: number, headPosition: number) => void;
  readonly expectedCheckpoint?: ExpectedCheckpoint;
}

/** `audit verify` on a store: reads the log and the checkpoint stream page by page, never whole. */
export async function verifyStore(store: EventStore, trustedKeys: TrustedKeys, options: VerifyStoreOptions = {}): Promise<VerifyReport> {
  const pageSize = options.pageSize ?? 1000;
  const head = await store.headPosition();
  return verifySealedLog({
    events: readLog(store, pageSize, (position) => options.onProgress?.(position, head)),
    checkpoints: readCheckpoints(store, pageSize),
    trustedKeys,
    ...(options.expectedCheckpoint ? { expectedCheckpoint: options.expectedCheckpoint } : {}),
  });
}

export async function* readLog(
  store: Pick<EventStore, 'readAll'>,
  pageSize: number,
  onPage?: (position: number) => void,
  from = 0,
): AsyncIterable<RecordedEvent> {
  for (let after = from; ; ) {
    const page = await store.readAll({ after, maxCount: pageSize });
    yield* page;
    if (page.length === 0) return;
    after = page[page.length - 1]!.position;
    onPage?.(after);
    if (page.length < pageSize) return;
    await nextTurn();
  }
}

/**
 * Lets timers and I/O run between pages. An embedded store answers reads synchronously, so
 * without it a long verification or export inside the server would hold the event loop whole.
 */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function* readCheckpoints(store: Pick<EventStore, 'readStream'>, pageSize: number): AsyncIterable<RecordedEvent> {
  // Checkpoint events are large (they list their batch's leaf hashes): fewer per page.
  const perPage = Math.max(1, Math.floor(pageSize / 100));
  for (let fromRevision = 0; ; ) {
    const page = await store.readStream(CHECKPOINT_STREAM, { fromRevision, maxCount: perPage });
    yield* page;
    if (page.length < perPage) return;
    fromRevision = page[page.length - 1]!.revision + 1;
    await nextTurn();
  }
}
