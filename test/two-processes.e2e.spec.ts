import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent, Subscription } from '@keyledger/event-store';
import { PostgresEventStore } from '@keyledger/event-store-postgres';
import { createTestDatabase, type TestDatabase } from '../libs/event-store-postgres/test/test-database.js';

/**
 * SPEC §9: API processes behind a load balancer on one PostgreSQL database. Two real
 * `keyledger serve` processes, each with its own data dir holding the same root.key (and nothing
 * else), share one fresh database; a third connection tails the log as a projection would.
 */
const ROOT = join(__dirname, '..');
const adminToken = `klt_two_processes_${randomBytes(16).toString('hex')}`;

interface ApiProcess {
  readonly url: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

describe('two API processes on one PostgreSQL database', () => {
  let database: TestDatabase;
  let rootKey: Buffer;
  const dataDirs: string[] = [];
  const running = new Set<ApiProcess>();
  let a: ApiProcess;
  let b: ApiProcess;
  let tail: PostgresEventStore;
  let subscription: Subscription;
  const received: RecordedEvent[] = [];

  const start = async (dataDir?: string): Promise<ApiProcess> => {
    const dir = dataDir ?? freshDataDir(rootKey, dataDirs);
    const server = await startApiProcess(database.url, dir);
    running.add(server);
    return server;
  };
  const call = async (server: ApiProcess, path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(server.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any, headers: res.headers };
  };

  beforeAll(async () => {
    database = await createTestDatabase('two');
    rootKey = randomBytes(32);
    a = await start(); // first alone: it creates the schema and the bootstrap admin
    b = await start();
    tail = PostgresEventStore.open({ connectionString: database.url, poolSize: 2, pollIntervalMs: 50 });
    subscription = tail.subscribeToAll({ after: 0, onEvent: (event) => void received.push(event) });
  }, 60_000);

  afterAll(async () => {
    await subscription?.close();
    await tail?.close();
    await Promise.all([...running].map((server) => server.stop()));
    await database?.drop();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  const activeDek = async () => {
    const kek = (await call(a, '/v1/keys', { tenantId: 'acme', purpose: 'kek' })).body;
    expect((await call(b, `/v1/keys/${kek.id}/activate`, {})).status).toBe(200);
    const dek = (await call(b, '/v1/keys', { tenantId: 'acme', purpose: 'dek', parentKeyId: kek.id })).body;
    expect((await call(a, `/v1/keys/${dek.id}/activate`, {})).status).toBe(200);
    return dek;
  };

  it('rotates one key from both processes at once: each success is exactly one new version, the rest 409', async () => {
    const dek = await activeDek();

    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => call(i % 2 ? a : b, `/v1/keys/${dek.id}/rotate`, {})));

    const successes = answers.filter((answer) => answer.status === 200);
    const conflicts = answers.filter((answer) => answer.status === 409);
    expect(successes.length + conflicts.length).toBe(answers.length);
    expect(successes.length).toBeGreaterThanOrEqual(1);
    expect(conflicts.length).toBeGreaterThanOrEqual(1); // twelve at once on two processes do collide
    for (const conflict of conflicts) expect(conflict.body.code).toBe('CONCURRENCY.CONFLICT');
    const versions = successes.map((answer) => answer.body.currentVersion).sort((x, y) => x - y);
    expect(versions).toEqual(successes.map((_, i) => i + 2)); // one new version per success, none lost or doubled
    const rotations = (await tail.readAll()).filter((e) => e.type === 'KeyRotated' && (e.data as { keyId: string }).keyId === dek.id);
    expect(rotations).toHaveLength(successes.length);
    const shown = (await fetch(`${b.url}/v1/keys/${dek.id}`, { headers: { authorization: `Bearer ${adminToken}` } }).then((r) => r.json())) as any;
    expect(shown.versions).toHaveLength(1 + successes.length);
  });

  it('answers an Idempotency-Key retry sent to the other process, or after a restart, with the first answer, appending nothing', async () => {
    const body = { tenantId: 'acme', purpose: 'kek', label: 'retried' };
    const key = { 'idempotency-key': `two-processes-${randomBytes(4).toString('hex')}` };
    const first = await call(a, '/v1/keys', body, key);
    expect(first.status).toBe(201);
    const head = await tail.headPosition();

    const retried = await call(b, '/v1/keys', body, key);
    const reused = await call(b, '/v1/keys', { ...body, label: 'another body' }, key);
    await a.stop();
    running.delete(a);
    a = await start(a.dataDir);
    const afterRestart = await call(a, '/v1/keys', body, key);

    expect([retried.status, afterRestart.status]).toEqual([201, 201]);
    expect(retried.body).toEqual(first.body);
    expect(afterRestart.body).toEqual(first.body);
    expect(retried.headers.get('idempotency-replayed')).toBe('true');
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY.KEY_REUSED');
    // Background work (the audit sealer's signed checkpoints) may append meanwhile; no request may.
    const appendedSince = await tail.readAll({ after: head });
    expect(appendedSince.filter((event) => !event.metadata.actor.startsWith('system:'))).toEqual([]);
  });

  it('lets a subscriber on a third connection see every event exactly once, in order', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => call(i % 2 ? a : b, '/v1/keys', { tenantId: `t-${i}`, purpose: 'kek' })));
    const head = await tail.headPosition();

    await waitFor(() => received.length >= head, 'the subscriber to reach the head');

    expect(received.map((event) => event.position)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(new Set(received.map((event) => event.eventId)).size).toBe(head);
    expect(received).toEqual(await tail.readAll({ after: 0, maxCount: head }));
  });

  it('keeps no shared state on either process\'s disk: the log, idempotency records and key material are in PostgreSQL', () => {
    for (const dir of dataDirs) {
      const files = readdirSync(dir);
      expect(files).toContain('root.key');
      expect(files.filter((file) => /^(events|key-material|idempotency)\.db/.test(file))).toEqual([]);
    }
  });
});

function freshDataDir(rootKey: Buffer, created: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-process-'));
  writeFileSync(join(dir, 'root.key'), rootKey, { mode: 0o600 });
  created.push(dir);
  return dir;
}

/** Starts `keyledger serve` on a free port and resolves once it says where it listens. */
function startApiProcess(pgUrl: string, dataDir: string): Promise<ApiProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'keyledger.js'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      KEYLEDGER_STORE: 'postgres',
      KEYLEDGER_PG_URL: pgUrl,
      KEYLEDGER_DATA_DIR: dataDir,
      KEYLEDGER_PORT: '0',
      KEYLEDGER_ADMIN_TOKEN: adminToken,
      KEYLEDGER_LOG_LEVEL: 'warn',
    },
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`keyledger serve did not start within 30 s:\n${output}`)), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /keyledger listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({ url, dataDir, stop: () => stopProcess(child) });
    });
    child.once('exit', (code) => fail(new Error(`keyledger serve exited with ${code} before listening:\n${output}`)));
  });
}

function stopProcess(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
