import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConcurrencyError, type RecordedEvent } from '@keyledger/event-store';
import { range, testEvent, uniqueStreamId, waitUntil } from '../../event-store/src/contract-helpers.js';
import { eventStoreContract, idempotencyContract } from '../../event-store/src/contract.js';
import { isStreamRevisionConflict } from './sqlite-errors.js';
import { SqliteEventStore, type SqliteEventStoreOptions } from './sqlite-event-store.js';
import { SqliteIdempotencyStore } from './sqlite-idempotency-store.js';

async function freshFile(): Promise<{ filePath: string; removeDir: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'keyledger-sqlite-'));
  // A nested folder that does not exist yet: open() must create it.
  return { filePath: join(dir, 'data', 'events.sqlite'), removeDir: () => rm(dir, { recursive: true, force: true }) };
}

eventStoreContract('SqliteEventStore', async () => {
  const { filePath, removeDir } = await freshFile();
  const store = SqliteEventStore.open(filePath);
  const reopened: SqliteEventStore[] = [];
  return {
    store,
    reopen: async () => {
      const again = SqliteEventStore.open(filePath);
      reopened.push(again);
      return again;
    },
    cleanup: async () => {
      await Promise.all([store, ...reopened].map((s) => s.close()));
      await removeDir();
    },
  };
});

idempotencyContract('SqliteIdempotencyStore', async () => {
  const { filePath, removeDir } = await freshFile();
  const events = SqliteEventStore.open(filePath);
  return {
    store: new SqliteIdempotencyStore(events.database),
    cleanup: async () => {
      await events.close();
      await removeDir();
    },
  };
});

describe('SqliteEventStore', () => {
  let filePath: string;
  let removeDir: () => Promise<void>;
  const opened: SqliteEventStore[] = [];
  const open = (options?: SqliteEventStoreOptions): SqliteEventStore => {
    const store = SqliteEventStore.open(filePath, options);
    opened.push(store);
    return store;
  };

  beforeEach(async () => {
    ({ filePath, removeDir } = await freshFile());
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await removeDir();
  });

  describe('group commit', () => {
    it('commits appends made together in fewer transactions than appends', async () => {
      const store = open();
      const before = store.stats();

      await Promise.all(range(50).map((i) => store.appendToStream(uniqueStreamId(`batched-${i}`), [testEvent('E')], 'no-stream')));

      const after = store.stats();
      expect(after.appends - before.appends).toBe(50);
      expect(after.commits - before.commits).toBeLessThan(50);
      expect(after.commits - before.commits).toBeGreaterThanOrEqual(1);
    });

    it('bounds each transaction to maxBatchSize appends', async () => {
      const store = open({ maxBatchSize: 8 });

      await Promise.all(range(50).map((i) => store.appendToStream(uniqueStreamId(`bounded-${i}`), [testEvent('E')], 'no-stream')));

      expect(store.stats()).toEqual({ commits: Math.ceil(50 / 8), appends: 50 });
    });

    it('fails only the conflicting append of a batch, and commits the others', async () => {
      const store = open();
      const contested = uniqueStreamId('contested');
      const others = range(5).map((i) => uniqueStreamId(`bystander-${i}`));

      const outcomes = await Promise.allSettled([
        store.appendToStream(contested, [testEvent('First')], 'no-stream'),
        ...others.map((streamId) => store.appendToStream(streamId, [testEvent('E')], 'no-stream')),
        store.appendToStream(contested, [testEvent('Second'), testEvent('Third')], 'no-stream'),
      ]);

      expect(outcomes.map((outcome) => outcome.status)).toEqual([...range(6).map(() => 'fulfilled'), 'rejected']);
      expect((outcomes[6] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
      expect(store.stats().commits).toBe(1);
      expect((await store.readStream(contested)).map((e) => e.type)).toEqual(['First']);
      expect(await store.headPosition()).toBe(6);
    });

    it('commits appends still queued when the store is closed', async () => {
      const store = open();
      const streamId = uniqueStreamId('queued');
      const append = store.appendToStream(streamId, [testEvent('Queued')], 'no-stream');
      await store.close();
      await expect(append).resolves.toEqual({ nextExpectedRevision: 0, lastPosition: 1 });

      expect(await open().readStream(streamId)).toHaveLength(1);
      await expect(store.appendToStream(streamId, [testEvent('Late')], 0)).rejects.toThrow('closed');
    });
  });

  describe('configuration', () => {
    it('opens the file in WAL mode with durable (FULL) commits and a busy timeout', () => {
      const store = open({ busyTimeoutMs: 1_234 });

      expect(store.database.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.database.pragma('synchronous', { simple: true })).toBe(2); // 2 = FULL
      expect(store.database.pragma('busy_timeout', { simple: true })).toBe(1_234);
    });

    it('wakes its own subscriptions on commit rather than waiting for the poll', async () => {
      const store = open({ pollIntervalMs: 60_000 });
      const received: RecordedEvent[] = [];
      const subscription = store.subscribeToAll({ after: 0, onEvent: (event) => void received.push(event) });

      await store.appendToStream(uniqueStreamId('local'), [testEvent('Local')], 'no-stream');
      await waitUntil(() => received.length === 1, 'the local event without polling', 1_000);
      await subscription.close();
    });
  });

  describe('errors', () => {
    it('leaves no partial events when an append fails part way, and passes the error through', async () => {
      const store = open();
      // A trigger stands in for a failure after the first rows of an append were written.
      store.database.exec(
        `CREATE TRIGGER refuse_poison BEFORE INSERT ON events WHEN NEW.type = 'Poison'
         BEGIN SELECT RAISE(ABORT, 'poison refused'); END`,
      );
      const broken = uniqueStreamId('broken');
      const healthy = uniqueStreamId('healthy');

      const [brokenOutcome, healthyOutcome] = await Promise.allSettled([
        store.appendToStream(broken, [testEvent('Fine'), testEvent('AlsoFine'), testEvent('Poison')], 'no-stream'),
        store.appendToStream(healthy, [testEvent('Fine')], 'no-stream'),
      ]);

      expect(brokenOutcome.status).toBe('rejected');
      const reason = (brokenOutcome as PromiseRejectedResult).reason as Error;
      expect(reason).not.toBeInstanceOf(ConcurrencyError);
      expect(reason.message).toBe('poison refused');
      expect(healthyOutcome.status).toBe('fulfilled');
      expect(await store.readStream(broken)).toEqual([]);
      expect((await store.readAll()).map((e) => e.streamId)).toEqual([healthy]);
    });

    it('rejects data that is not JSON before queueing it', async () => {
      const store = open();
      await expect(
        store.appendToStream(uniqueStreamId('bad'), [{ ...testEvent('E'), data: () => 'not JSON' }], 'no-stream'),
      ).rejects.toThrow(TypeError);
    });

    it('recognises only a duplicate (stream_id, revision) as a revision conflict', () => {
      const store = open();
      const insert = store.database.prepare(
        `INSERT INTO events (event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at)
         VALUES (?, ?, ?, 'E', 1, '{}', '{}', '2026-01-01T00:00:00.000Z')`,
      );
      insert.run('event-1', 'stream', 0);
      const failureOf = (run: () => unknown): unknown => {
        try {
          run();
        } catch (error) {
          return error;
        }
        throw new Error('expected the insert to fail');
      };

      expect(isStreamRevisionConflict(failureOf(() => insert.run('event-2', 'stream', 0)))).toBe(true);
      expect(isStreamRevisionConflict(failureOf(() => insert.run('event-1', 'other', 0)))).toBe(false);
      expect(isStreamRevisionConflict(new Error('UNIQUE constraint failed: events.stream_id, events.revision'))).toBe(false);
    });
  });

  describe('two handles on one file (as two processes would)', () => {
    it('sees the other writer in reads, revision checks and polling subscriptions', async () => {
      const first = open();
      const second = open({ pollIntervalMs: 50 });
      const received: RecordedEvent[] = [];
      const subscription = second.subscribeToAll({ after: 0, onEvent: (event) => void received.push(event) });

      const streamId = uniqueStreamId('shared');
      await first.appendToStream(streamId, [testEvent('FromFirst')], 'no-stream');

      // second's in-process notifier never fires for first's commit: only polling can deliver it.
      await waitUntil(() => received.length === 1, 'the other handle’s event via polling', 2_000);
      expect(received[0]).toEqual((await first.readAll())[0]);
      expect(await second.readAll()).toEqual(await first.readAll());
      await expect(second.appendToStream(streamId, [testEvent('FromSecond')], 'no-stream')).rejects.toMatchObject({
        streamId,
        actual: 0,
      });
      await subscription.close();
    });

    it('waits for another process holding the write lock instead of failing', async () => {
      const store = open();
      const streamId = uniqueStreamId('locked');
      const lockHolder = await holdWriteLock(filePath, streamId, 400);
      const started = Date.now();

      // Blocks (busy_timeout) until the other process commits, then sees that process's event.
      await expect(store.appendToStream(streamId, [testEvent('Mine')], 'no-stream')).rejects.toBeInstanceOf(ConcurrencyError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
      await expect(store.appendToStream(streamId, [testEvent('Mine')], 0)).resolves.toMatchObject({ nextExpectedRevision: 1 });
      expect(await lockHolder.exited).toBe(0);
    });
  });
});

/**
 * Starts a separate Node process that takes the write lock, writes revision 0 of `streamId`, and
 * commits after `holdMs`. Resolves once the lock is held, with a promise of the exit code.
 */
async function holdWriteLock(filePath: string, streamId: string, holdMs: number): Promise<{ exited: Promise<number | null> }> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.env.DB_PATH, { timeout: 5000 });
    db.exec('BEGIN IMMEDIATE');
    db.prepare("INSERT INTO events (event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at) VALUES ('child-event', ?, 0, 'FromChild', 1, '{}', '{}', ?)")
      .run(process.env.STREAM_ID, new Date().toISOString());
    console.log('locked');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, Number(process.env.HOLD_MS));
  `;
  const child = spawn(process.execPath, ['-e', script], {
    cwd: process.cwd(),
    env: { ...process.env, DB_PATH: filePath, STREAM_ID: streamId, HOLD_MS: String(holdMs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('locked\n')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`lock holder exited early with ${code}`)));
  });
  // Wrapped: an async function returning a bare promise would wait for it (for the child to exit).
  return { exited };
}

describe('SqliteIdempotencyStore', () => {
  let filePath: string;
  let removeDir: () => Promise<void>;
  beforeEach(async () => {
    ({ filePath, removeDir } = await freshFile());
  });
  afterEach(async () => {
    await removeDir();
  });

  it('shares reservations between handles on one file and keeps them across reopen', async () => {
    const first = SqliteIdempotencyStore.open(filePath);
    const second = SqliteIdempotencyStore.open(filePath);
    try {
      expect(await first.reserve('scope', 'key', 'hash', '2026-01-01T00:00:00.000Z')).toEqual({ outcome: 'reserved' });
      expect(await second.reserve('scope', 'key', 'hash', '2026-01-01T00:00:00.000Z')).toMatchObject({ outcome: 'exists' });
      await second.complete('scope', 'key', 201, '{}');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }

    const reopened = SqliteIdempotencyStore.open(filePath);
    try {
      expect(await reopened.get('scope', 'key')).toMatchObject({ state: 'completed', statusCode: 201 });
    } finally {
      await reopened.close();
    }
  });

  it('refuses to complete a key that was never reserved', async () => {
    const store = SqliteIdempotencyStore.open(filePath);
    try {
      await expect(store.complete('scope', 'unknown', 200, '{}')).rejects.toThrow('No idempotency reservation');
      expect(await store.get('scope', 'unknown')).toBeNull();
    } finally {
      await store.close();
    }
  });
});
