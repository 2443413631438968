import { createHash } from 'node:crypto';
import type { EventStore } from '@keyledger/event-store';
import { CHECKPOINT_STREAM } from '../checkpoint/checkpoint.js';
import { canonicalEvent, canonicalEventBytes } from '../sealed-event.js';
import type { TrustedKeys } from '../signer/ed25519.js';
import { readLog, verifyStore } from './verify-store.js';

export interface VerifyThroughput {
  readonly events: number;
  readonly bytes: number;
  readonly verifySeconds: number;
  readonly verifyEventsPerSecond: number;
  /** One SHA-256 per event over the same canonical bytes: the raw limit verification is measured against. */
  readonly rawSha256EventsPerSecond: number;
  readonly ratioToRawSha256: number;
}

/**
 * For the bench (never the tests): `audit verify` events per second on a store, beside plain
 * node:crypto SHA-256 over the same bytes in the same run. The raw pass times only the hashing,
 * page by page, so its memory stays that of one page.
 */
export async function measureVerifyThroughput(store: EventStore, trustedKeys: TrustedKeys): Promise<VerifyThroughput> {
  const started = process.hrtime.bigint();
  const report = await verifyStore(store, trustedKeys);
  const verifySeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (!report.intact) throw new Error(`The log does not verify, so its throughput means nothing: ${report.summary}`);
  let hashingNs = 0n;
  let bytes = 0;
  let events = 0;
  let page: Buffer[] = [];
  const hashPage = () => {
    const start = process.hrtime.bigint();
    for (const data of page) createHash('sha256').update(data).digest();
    hashingNs += process.hrtime.bigint() - start;
    page = [];
  };
  for await (const event of readLog(store, 1000)) {
    if (event.streamId === CHECKPOINT_STREAM) continue;
    const data = canonicalEventBytes(canonicalEvent(event));
    bytes += data.length;
    events += 1;
    page.push(data);
    if (page.length === 1000) hashPage();
  }
  hashPage();
  const rawSha256EventsPerSecond = events / (Number(hashingNs) / 1e9);
  const verifyEventsPerSecond = report.eventsChecked / verifySeconds;
  return { events, bytes, verifySeconds, verifyEventsPerSecond, rawSha256EventsPerSecond, ratioToRawSha256: verifyEventsPerSecond / rawSha256EventsPerSecond };
}
