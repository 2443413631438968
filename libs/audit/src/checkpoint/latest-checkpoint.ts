import type { EventStore, RecordedEvent } from '@keyledger/event-store';
import { CHECKPOINT_STREAM } from './checkpoint.js';

/**
 * The last event of the checkpoint stream, found with O(log n) one-event reads: the port has no
 * "read backwards", and reading the whole stream would grow with the log. "Some event at revision
 * r or later" is monotone in r, so an exponential probe then a binary search finds the last one.
 */
export async function readLatestCheckpointEvent(store: Pick<EventStore, 'readStream'>): Promise<RecordedEvent | null> {
  const from = async (revision: number): Promise<RecordedEvent | undefined> =>
    (await store.readStream(CHECKPOINT_STREAM, { fromRevision: revision, maxCount: 1 }))[0];
  if (!(await from(0))) return null;
  let known = 0;
  let beyond = 1;
  while (await from(beyond)) {
    known = beyond;
    beyond *= 2;
  }
  while (beyond - known > 1) {
    const middle = Math.floor((known + beyond) / 2);
    if (await from(middle)) known = middle;
    else beyond = middle;
  }
  return (await from(known)) ?? null;
}
