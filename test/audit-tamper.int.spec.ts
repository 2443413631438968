import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SoftwareCheckpointSigner, TrustedKeys, verifyStore, type CheckpointRecord, type VerifyReport } from '@keyledger/audit';
import type { EventStore } from '@keyledger/event-store';
import { PostgresEventStore } from '@keyledger/event-store-postgres';
import { SqliteEventStore } from '@keyledger/event-store-sqlite';
import { createTestDatabase, TEST_PG_ADMIN_URL, withConnection, type TestDatabase } from '../libs/event-store-postgres/test/test-database.js';
import { anotherKey, buildSealedLog, genuineSigningKey, PostgresTamper, resign, SqliteTamper, type LogTamper } from './audit-support.js';

/**
 * Each kind of tampering issue 6 lists, done on the store's own table the way an intruder with
 * database access would, must be detected and located by `audit verify`. The scenarios are
 * written once against `LogTamper`; each store provides its copy of a pristine sealed log.
 */
interface LogCopy {
  open(): Promise<EventStore>;
  tamper(): Promise<LogTamper>;
}

interface StoreUnderTest {
  readonly label: string;
  /** Builds the pristine log once (sealed by a real sealer with the data dir's software key). */
  build(dataDir: string): Promise<void>;
  /** A fresh copy of the pristine log to tamper with. */
  copy(): Promise<LogCopy>;
  cleanup(): Promise<void>;
}

const SHAPE = { appends: 30, streams: 4, checkpointEvery: 7 };

const sqlite = (): StoreUnderTest => {
  let dir = '';
  let copies = 0;
  return {
    label: 'SQLite',
    async build(dataDir) {
      dir = dataDir;
      const store = SqliteEventStore.open(join(dir, 'pristine.db'));
      await buildSealedLog(store, await SoftwareCheckpointSigner.open(dir), SHAPE);
      await store.close();
    },
    async copy() {
      const file = join(dir, `copy-${(copies += 1)}.db`);
      copyFileSync(join(dir, 'pristine.db'), file);
      return { open: async () => SqliteEventStore.open(file), tamper: async () => new SqliteTamper(file) };
    },
    async cleanup() {},
  };
};

/** Each copy is a new database made from the pristine one as its template: a byte-for-byte copy. */
const postgres = (): StoreUnderTest => {
  let pristine: TestDatabase;
  const copies: string[] = [];
  const urlOf = (name: string) => Object.assign(new URL(TEST_PG_ADMIN_URL), { pathname: `/${name}` }).toString();
  const openStore = async (url: string) => {
    const store = PostgresEventStore.open({ connectionString: url });
    await store.ready();
    return store;
  };
  return {
    label: 'PostgreSQL',
    async build(dataDir) {
      pristine = await createTestDatabase('audit');
      const store = await openStore(pristine.url);
      await buildSealedLog(store, await SoftwareCheckpointSigner.open(dataDir), SHAPE);
      await store.close();
    },
    async copy() {
      const name = `${pristine.name}_${copies.length + 1}`;
      await withConnection(TEST_PG_ADMIN_URL, (admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE ${pristine.name}`));
      copies.push(name);
      return { open: () => openStore(urlOf(name)), tamper: () => PostgresTamper.connect(urlOf(name)) };
    },
    async cleanup() {
      await withConnection(TEST_PG_ADMIN_URL, async (admin) => {
        for (const name of copies) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
      await pristine?.drop();
    },
  };
};

describe.each([
  { name: 'SQLite', makeStore: sqlite },
  { name: 'PostgreSQL', makeStore: postgres },
])('tamper evidence on $name', ({ makeStore }) => {
  const store = makeStore();
  let dataDir: string;
  let trusted: TrustedKeys;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'keyledger-tamper-'));
    await store.build(dataDir);
    trusted = new TrustedKeys([(await SoftwareCheckpointSigner.open(dataDir)).publicKey]);
  });
  afterAll(async () => {
    await store.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Tampers a fresh copy, then verifies it through the store port as `audit verify` does. */
  const tamperAndVerify = async (tamper: (t: LogTamper, positions: number[]) => Promise<void>, expected?: { sequence: number; rootHash?: string }) => {
    const copy = await store.copy();
    const t = await copy.tamper();
    const positions = await t.eventPositions();
    try {
      await tamper(t, positions);
    } finally {
      await t.close();
    }
    const log = await copy.open();
    try {
      return await verifyStore(log, trusted, { pageSize: 16, ...(expected ? { expectedCheckpoint: expected } : {}) });
    } finally {
      await log.close();
    }
  };

  const first = (report: VerifyReport) => {
    expect(report.intact).toBe(false);
    expect(report.summary).toMatch(/^FAILED: /);
    return report.failures[0]!;
  };

  it('finds the pristine log intact, up to the last checkpoint', async () => {
    const report = await tamperAndVerify(async () => undefined);
    expect(report.intact).toBe(true);
    expect(report.failures).toEqual([]);
    expect(report.eventsChecked).toBeGreaterThan(40);
    expect(report.checkpoints).toBe(Math.ceil(report.eventsChecked / SHAPE.checkpointEvery));
    expect(report.summary).toBe(
      `intact up to position ${report.lastCheckpoint!.lastPosition}, checkpoint #${report.checkpoints} (${report.eventsChecked} events, root ${report.lastCheckpoint!.rootHash})`,
    );
  });

  it('locates a modified field of one event', async () => {
    let target = 0;
    let eventId = '';
    const report = await tamperAndVerify(async (t, positions) => {
      target = positions[17]!;
      const event = await t.eventAt(target);
      eventId = event.eventId;
      await t.setData(target, { ...(event.data as object), fingerprint: 'fp-forged' });
    });
    expect(first(report)).toMatchObject({ kind: 'event-modified', position: target, eventId, checkpoint: 3 });
    expect(report.failureCount).toBe(1);
    expect(report.intactThrough.position).toBe(target - 1);
    expect(report.summary).toContain(`event at position ${target}`);
  });

  it('locates a modified recording time', async () => {
    let target = 0;
    const report = await tamperAndVerify(async (t, positions) => {
      target = positions[3]!;
      await t.setRecordedAt(target, '2020-01-01T00:00:00.000Z');
    });
    expect(first(report)).toMatchObject({ kind: 'event-modified', position: target, checkpoint: 1 });
  });

  it('locates a deleted event', async () => {
    let target = 0;
    const report = await tamperAndVerify(async (t, positions) => {
      target = positions[25]!;
      await t.deleteEvent(target);
    });
    expect(first(report)).toMatchObject({ kind: 'event-deleted', position: target, count: 1 });
    expect(report.failureCount).toBe(1);
  });

  it('locates an inserted forged event, and the sealed events it pushed along', async () => {
    let target = 0;
    let forged = '';
    const report = await tamperAndVerify(async (t, positions) => {
      target = positions[10]!;
      forged = await t.insertForgedAt(target);
    });
    expect(first(report)).toMatchObject({ kind: 'event-inserted', position: target, eventId: forged });
    expect(report.failures[1]).toMatchObject({ kind: 'event-moved', position: target + 1, sealedAtPosition: target });
  });

  it('locates two swapped events', async () => {
    let [a, b] = [0, 0];
    const report = await tamperAndVerify(async (t, positions) => {
      [a, b] = [positions[5]!, positions[30]!];
      await t.swap(a, b);
    });
    expect(report.failures).toEqual([
      expect.objectContaining({ kind: 'event-moved', position: a, sealedAtPosition: b }),
      expect.objectContaining({ kind: 'event-moved', position: b, sealedAtPosition: a }),
    ]);
  });

  it('locates a tail truncated before the last checkpoint', async () => {
    let from = 0;
    let last = 0;
    const report = await tamperAndVerify(async (t, positions) => {
      from = positions[positions.length - 4]!;
      last = positions[positions.length - 1]!;
      await t.truncateEventsFrom(from);
    });
    expect(first(report)).toMatchObject({ kind: 'log-truncated', position: from, toPosition: last, count: 4 });
    expect(report.failureCount).toBe(1);
  });

  it('cannot see a truncation that took the checkpoints with it, unless a checkpoint is known from elsewhere', async () => {
    const pristine = await tamperAndVerify(async () => undefined);
    const known = { sequence: pristine.lastCheckpoint!.sequence, rootHash: pristine.lastCheckpoint!.rootHash };
    const truncate = async (t: LogTamper, positions: number[]) => t.truncateAllFrom(positions[positions.length - 10]!);
    const alone = await tamperAndVerify(truncate);
    expect(alone.intact).toBe(true);
    expect(alone.lastCheckpoint!.sequence).toBeLessThan(known.sequence);
    const withKnown = await tamperAndVerify(truncate, known);
    expect(first(withKnown)).toMatchObject({ kind: 'checkpoint-missing', checkpoint: known.sequence });
  });

  it('locates a checkpoint forged with another key', async () => {
    const report = await tamperAndVerify(async (t) => {
      const record = await t.checkpoint(4);
      await t.setCheckpoint(4, resign({ ...record, leaves: record.leaves }, anotherKey(), true));
    });
    expect(first(report)).toMatchObject({ kind: 'checkpoint-untrusted-key', checkpoint: 4 });
  });

  it('locates a checkpoint whose head was altered and signed again with another key under the genuine key id', async () => {
    const report = await tamperAndVerify(async (t) => {
      const record = await t.checkpoint(2);
      await t.setCheckpoint(2, resign({ ...record, head: { ...record.head, signedAt: '2030-01-01T00:00:00.000Z' } }, anotherKey(), false));
    });
    expect(first(report)).toMatchObject({ kind: 'checkpoint-bad-signature', checkpoint: 2 });
  });

  it('locates a corrupted checkpoint signature', async () => {
    const report = await tamperAndVerify(async (t) => {
      const record = await t.checkpoint(5);
      const signature = Buffer.from(record.signature, 'base64');
      signature[10] ^= 0x40;
      await t.setCheckpoint(5, { ...record, signature: signature.toString('base64') });
    });
    expect(first(report)).toMatchObject({ kind: 'checkpoint-bad-signature', checkpoint: 5 });
    expect(report.failureCount).toBe(1);
  });

  it('locates a checkpoint whose Merkle root does not match its events, even when signed with the genuine key', async () => {
    const report = await tamperAndVerify(async (t) => {
      const record = await t.checkpoint(3);
      const wrongRoot = { ...record.head, rootHash: record.head.chainHash };
      await t.setCheckpoint(3, resign({ ...record, head: wrongRoot }, genuineSigningKey(dataDir), false));
    });
    expect(first(report)).toMatchObject({ kind: 'checkpoint-root-mismatch', checkpoint: 3 });
  });

  it("locates a checkpoint whose sealed leaf hashes were rewritten to hide a change", async () => {
    const report = await tamperAndVerify(async (t) => {
      const record: CheckpointRecord = await t.checkpoint(2);
      const leaves = record.leaves.map(([position, hash], i) => [position, i === 3 ? hash.replace(/^./, hash[0] === 'a' ? 'b' : 'a') : hash] as const);
      await t.setCheckpoint(2, { ...record, leaves });
    });
    expect(report.failures.map((f) => f.kind)).toEqual(['event-modified', 'checkpoint-root-mismatch']);
    expect(report.failures[1]).toMatchObject({ checkpoint: 2 });
    expect(report.intactThrough).toEqual({ position: expect.any(Number), checkpoint: 1 });
  });

  it('locates a deleted checkpoint, and still checks the ones after it', async () => {
    const report = await tamperAndVerify(async (t) => t.deleteCheckpoint(3));
    expect(first(report)).toMatchObject({ kind: 'checkpoint-missing', checkpoint: 3, count: 1 });
    expect(report.failureCount).toBe(1);
    expect(report.uncheckedEvents).toBe(SHAPE.checkpointEvery);
  });

  it('reports events after the last checkpoint as not sealed yet: the documented limit', async () => {
    const copy = await store.copy();
    const log = await copy.open();
    try {
      await log.appendToStream('key-late', [{ type: 'KeyGenerated', schemaVersion: 1, data: {}, metadata: { actor: 'p', tenantId: null, correlationId: 'c', causationId: null, idempotencyKey: null } }], 'no-stream');
      const report = await verifyStore(log, trusted);
      expect(report.intact).toBe(true);
      expect(report.unsealedEvents).toBe(1);
      expect(report.summary).toMatch(/; 1 later event is not sealed yet$/);
    } finally {
      await log.close();
    }
  });
});
