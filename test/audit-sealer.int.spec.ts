import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditSealer, CHECKPOINT_STREAM, SoftwareCheckpointSigner, TrustedKeys, verifyStore, type AuditLogger } from '@keyledger/audit';
import type { EventStore, NewEvent } from '@keyledger/event-store';
import { PostgresEventStore } from '@keyledger/event-store-postgres';
import { SqliteEventStore } from '@keyledger/event-store-sqlite';
import { createTestDatabase, type TestDatabase } from '../libs/event-store-postgres/test/test-database.js';
import { PostgresTamper, quietLogger, SqliteTamper, type LogTamper } from './audit-support.js';

/**
 * The sealer on real stores: checkpoints by count, by time and at shutdown; two processes sealing
 * one store without forking the checkpoint chain; and a damaged checkpoint never extended.
 */
interface Backend {
  readonly name: string;
  /** A new handle on the same store, as another process would open it. */
  open(): Promise<EventStore>;
  tamper(): Promise<LogTamper>;
  cleanup(): Promise<void>;
}

const sqliteBackend = async (dir: string): Promise<Backend> => ({
  name: 'SQLite',
  open: async () => SqliteEventStore.open(join(dir, 'events.db'), { pollIntervalMs: 20 }),
  tamper: async () => new SqliteTamper(join(dir, 'events.db')),
  cleanup: async () => undefined,
});

const postgresBackend = async (): Promise<Backend> => {
  const database: TestDatabase = await createTestDatabase('sealer');
  return {
    name: 'PostgreSQL',
    open: async () => {
      const store = PostgresEventStore.open({ connectionString: database.url, pollIntervalMs: 20 });
      await store.ready();
      return store;
    },
    tamper: () => PostgresTamper.connect(database.url),
    cleanup: () => database.drop(),
  };
};

const metadata = { actor: 'p-test', tenantId: 't', correlationId: 'c', causationId: null, idempotencyKey: null };
const events = (n: number, from: number): NewEvent[] => Array.from({ length: n }, (_, i) => ({ type: 'KeyUsed', schemaVersion: 1, data: { n: from + i }, metadata }));

const checkpointHeads = async (store: EventStore) => (await store.readStream(CHECKPOINT_STREAM)).map((e) => (e.data as { head: { sequence: number; treeSize: number } }).head);

describe.each([
  { name: 'SQLite', backend: (dir: string) => sqliteBackend(dir) },
  { name: 'PostgreSQL', backend: () => postgresBackend() },
])('audit sealer on $name', ({ backend }) => {
  let dir: string;
  let store: Backend;
  let signer: SoftwareCheckpointSigner;
  const opened: EventStore[] = [];
  const open = async () => {
    const handle = await store.open();
    opened.push(handle);
    return handle;
  };
  const sealer = (log: EventStore, every: number, intervalMs: number, logger: AuditLogger = quietLogger) =>
    new AuditSealer({ store: log, signer, checkpointEvery: every, checkpointIntervalMs: intervalMs, logger });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyledger-sealer-'));
    store = await backend(dir);
    signer = await SoftwareCheckpointSigner.open(dir);
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((handle) => handle.close()));
    await store.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a checkpoint every N events, one at the interval for fewer, and one at shutdown', async () => {
    const log = await open();
    const running = sealer(log, 5, 150);
    await running.start();
    await log.appendToStream('s-1', events(12, 0), 'no-stream');
    const byCount = await waitFor(() => checkpointHeads(log), (heads) => heads.length >= 2);
    expect(byCount.slice(0, 2).map((h) => h.treeSize)).toEqual([5, 10]);
    const byTime = await waitFor(() => checkpointHeads(log), (heads) => heads.length >= 3);
    expect(byTime[2]!.treeSize).toBe(12);
    await log.appendToStream('s-1', events(1, 12), 12 - 1);
    await running.stop();
    const heads = await checkpointHeads(log);
    expect(heads.at(-1)!.treeSize).toBe(13);
    expect((await verifyStore(log, new TrustedKeys([signer.publicKey]))).summary).toMatch(/^intact up to position \d+, checkpoint #4 \(13 events/);
  });

  it('lets two processes seal one store: one checkpoint chain, every event sealed once', async () => {
    const [a, b] = [await open(), await open()];
    const [sealerA, sealerB] = [sealer(a, 7, 100), sealer(b, 7, 100)];
    await Promise.all([sealerA.start(), sealerB.start()]);
    const writes = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).appendToStream(`s-${i}`, events(3 + (i % 4), i * 10), 'no-stream'));
    await Promise.all(writes);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await Promise.all([sealerA.stop(), sealerB.stop()]);
    const report = await verifyStore(a, new TrustedKeys([signer.publicKey]));
    expect(report.failures).toEqual([]);
    expect(report).toMatchObject({ intact: true, unsealedEvents: 0 });
    expect(report.eventsChecked).toBe(writes.length * 3 + [0, 1, 2, 3].reduce((sum, extra) => sum + extra * 5, 0));
    const heads = await checkpointHeads(a);
    expect(heads.map((h) => h.sequence)).toEqual(heads.map((_, i) => i + 1));
  });

  it('never extends a damaged checkpoint, and says so', async () => {
    const log = await open();
    await log.appendToStream('s-1', events(4, 0), 'no-stream');
    await sealer(log, 100, 60_000).sealOnce();
    const tamper = await store.tamper();
    try {
      const record = await tamper.checkpoint(1);
      await tamper.setCheckpoint(1, { ...record, frontier: [record.head.chainHash] });
    } finally {
      await tamper.close();
    }
    await log.appendToStream('s-1', events(2, 4), 3);
    const logged: string[] = [];
    const broken = sealer(log, 100, 60_000, { event: (_level, msg) => logged.push(msg) });
    await expect(broken.sealOnce()).rejects.toMatchObject({ code: 'AUDIT.CHECKPOINTS_DAMAGED' });
    expect(logged).toContain('audit sealing stopped: the last checkpoint is damaged; run `keyledger audit verify`');
    expect(await checkpointHeads(log)).toHaveLength(1);
  });
});

async function waitFor<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
