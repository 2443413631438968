import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RecordedEvent } from '@keyledger/event-store';
import { loadConfig } from '../apps/api/src/config.js';
import { openStores } from '../apps/api/src/engine.js';
import { bootServer, type TestServer } from './support/server.js';
import { addPrincipal, encodingsOf, filesUnder, recipientKeys } from './support/fixtures.js';

/**
 * SPEC §3: rotating a KEK rewraps every DEK under the new version, recorded as events and
 * resumable after a crash; then the old version can be destroyed, with an impact report before
 * and a certificate after (SPEC §7).
 */
const ROOT = join(__dirname, '..');
const b64 = (text: string) => Buffer.from(text).toString('base64');

const waitFor = async <T>(probe: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const rewrapEvents = (events: RecordedEvent[], kekId: string) => events.filter((e) => e.streamId === `dek-rewrap-${kekId}`);

const materialRefOf = (events: RecordedEvent[], keyId: string, version: number): string =>
  (events.find((e) => e.streamId === `key-${keyId}` && (e.data as any).material?.version === version)!.data as any).material.materialRef;

/** The software custodian's sealed row for a handle, read from its file as someone with the disk would. */
const sealedRow = (dataDir: string, ref: string): Buffer | null => {
  const db = new Database(join(dataDir, 'key-material.db'), { readonly: true });
  try {
    return db.prepare<[string], { wrapped: Buffer }>('SELECT wrapped FROM material WHERE ref = ?').get(ref)?.wrapped ?? null;
  } finally {
    db.close();
  }
};

describe('KEK rotation rewraps every DEK (in process)', () => {
  let server: TestServer;
  let c1: string;
  let c2: string;
  beforeAll(async () => {
    server = await bootServer({ KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS: '0' });
    [c1, c2] = await Promise.all(['c1', 'c2'].map((name) => addPrincipal(server.dataDir, name, ['custodian'])));
  });
  afterAll(() => server.close());

  const post = (path: string, body: unknown = {}, token?: string) => server.call('POST', path, { body, ...(token ? { token } : {}) });
  const get = (path: string) => server.call('GET', path);
  const generate = async (body: Record<string, unknown>) => (await post('/v1/keys', body)).body;
  const activeKey = async (body: Record<string, unknown>) => {
    const key = await generate(body);
    expect((await post(`/v1/keys/${key.id}/activate`)).status).toBe(200);
    return key;
  };
  /** KEK destruction is scheduled under dual control (SPEC §5); the destroy itself needs no second approval. */
  const scheduleUnderDualControl = async (keyId: string, version: number) => {
    const requested = await post('/v1/approvals', { operation: 'schedule-destruction', keyId, version, params: { waitingPeriodDays: 0 } });
    expect(requested.status).toBe(201);
    await post(`/v1/approvals/${requested.body.id}/approve`, {}, c1);
    const executed = await post(`/v1/approvals/${requested.body.id}/approve`, {}, c2);
    expect(executed.body.state).toBe('executed');
    return requested.body.id as string;
  };
  const completedJob = (kekId: string) =>
    waitFor(async () => rewrapEvents(await server.events(), kekId).find((e) => e.type === 'DekRewrapCompleted'), 'the rewrap job to complete');

  it('reports, before destruction, the DEKs, tenants and data classes a KEK version would take with it', async () => {
    const kek = await activeKey({ tenantId: 'tenant-a', purpose: 'kek', classifications: ['ephi'] });
    const deks = [
      await activeKey({ tenantId: 'tenant-a', purpose: 'dek', parentKeyId: kek.id, classifications: ['pii'] }),
      await activeKey({ tenantId: 'tenant-a', purpose: 'dek', parentKeyId: kek.id, classifications: ['sud-42cfr2'] }),
    ];
    await post(`/v1/keys/${deks[0].id}/encrypt`, { plaintext: b64('a') });
    await post(`/v1/keys/${deks[0].id}/encrypt`, { plaintext: b64('b') });
    await post(`/v1/keys/${kek.id}/data-keys`, {});

    const impact = await get(`/v1/keys/${kek.id}/destruction-impact?version=1`);

    expect(impact.status).toBe(200);
    expect(impact.body).toMatchObject({ keyId: kek.id, version: 1, purpose: 'kek', tenantId: 'tenant-a', state: 'active', custodian: 'software' });
    expect(impact.body.unreadableKeys.map((k: any) => [k.keyId, k.version, k.wrappedBy])).toEqual(
      expect.arrayContaining(deks.map((d) => [d.id, 1, { keyId: kek.id, version: 1 }])),
    );
    expect(impact.body.unreadableKeys).toHaveLength(2);
    expect(impact.body.tenants).toEqual(['tenant-a']);
    expect(impact.body.dataClasses).toEqual(['ephi', 'pii', 'sud-42cfr2']);
    expect(impact.body.protectUses).toEqual({ thisVersion: 1, unreadableKeys: 2 });
  });

  it('rewraps every DEK under the new version, records it, and lets the old version be destroyed with no data lost', async () => {
    const kek = await activeKey({ tenantId: 'tenant-b', purpose: 'kek', classifications: ['ephi'] });
    const deks = await Promise.all(Array.from({ length: 6 }, () => activeKey({ tenantId: 'tenant-b', purpose: 'dek', parentKeyId: kek.id })));
    const sealed = await Promise.all(deks.map(async (d, i) => (await post(`/v1/keys/${d.id}/encrypt`, { plaintext: b64(`record ${i}`) })).body.ciphertext));
    const oldBlob = (await post(`/v1/keys/${kek.id}/data-keys`)).body.ciphertextBlob;
    const oldRef = materialRefOf(await server.events(), kek.id, 1);
    const oldSealedRow = sealedRow(server.dataDir, oldRef);
    expect(oldSealedRow).not.toBeNull();

    expect((await post(`/v1/keys/${kek.id}/rotate`)).status).toBe(200);
    const completed = await completedJob(kek.id);

    const job = rewrapEvents(await server.events(), kek.id);
    expect(job.map((e) => e.type)).toEqual(['DekRewrapStarted', ...deks.map(() => 'DekRewrapped'), 'DekRewrapCompleted']);
    expect(job[0]!.data).toMatchObject({ kekId: kek.id, toVersion: 2, dekVersions: 6, tenantId: 'tenant-b' });
    const moved = job.filter((e) => e.type === 'DekRewrapped').map((e) => e.data as any);
    expect(moved.map((d) => d.dekId).sort()).toEqual(deks.map((d) => d.id).sort());
    expect(moved.every((d) => d.fromKekVersion === 1 && d.toKekVersion === 2 && d.changed === true && d.dekVersion === 1)).toBe(true);
    expect(completed.data).toMatchObject({ outcome: 'completed', rewrapped: 6, skipped: 0 });
    expect(job.every((e) => e.metadata.actor === 'system:rewrap' && e.metadata.tenantId === 'tenant-b')).toBe(true);
    // Rewrapping touched no DEK: none of them has a new event on its own stream.
    expect((await server.events()).filter((e) => deks.some((d) => e.streamId === `key-${d.id}`) && e.position > job[0]!.position)).toEqual([]);

    expect((await get(`/v1/keys/${kek.id}/destruction-impact?version=1`)).body.unreadableKeys).toEqual([]);
    const approvalId = await scheduleUnderDualControl(kek.id, 1);
    expect((await post(`/v1/keys/${kek.id}/destroy`, { version: 1 })).status).toBe(200);

    const opened = await Promise.all(deks.map((d, i) => post(`/v1/keys/${d.id}/decrypt`, { ciphertext: sealed[i] })));
    expect(opened.map((o) => Buffer.from(o.body.plaintext, 'base64').toString())).toEqual(deks.map((_, i) => `record ${i}`));
    // Every route to the destroyed version fails, and its sealed row is gone from the files' bytes.
    const viaOldVersion = await Promise.all([
      post(`/v1/keys/${kek.id}/decrypt`, { ciphertextBlob: oldBlob }),
      post(`/v1/keys/${kek.id}/rewrap`, { ciphertextBlob: oldBlob }),
    ]);
    expect(viaOldVersion.map((a) => [a.status, a.body.code])).toEqual(Array(2).fill([409, 'KEY.USAGE_NOT_ALLOWED']));
    expect(sealedRow(server.dataDir, oldRef)).toBeNull();
    expect(filesUnder(server.dataDir).filter((f) => f.bytes.includes(oldSealedRow!)).map((f) => f.path)).toEqual([]);

    const certificate = await get(`/v1/keys/${kek.id}/destruction-certificate?version=1`);
    expect(certificate.status).toBe(200);
    expect(certificate.body).toMatchObject({
      format: 'keyledger-destruction-certificate/v1',
      keyId: kek.id,
      version: 1,
      tenantId: 'tenant-b',
      evidence: { custodian: 'software', verifiedAbsent: true, verification: 'SELECT by ref found no row' },
      schedule: { waitingPeriodDays: 0 },
      approvals: [{ id: approvalId, operation: 'schedule-destruction', state: 'executed', approvedBy: expect.arrayContaining([expect.any(String), expect.any(String)]) }],
      impact: { keyId: kek.id, version: 1, state: 'deactivated', unreadableKeys: [], tenants: ['tenant-b'], dataClasses: ['ephi'] },
    });
    expect(certificate.body.digest).toMatch(/^[0-9a-f]{64}$/);
    const destroyed = (await server.events('KeyVersionDestroyed')).find((e) => (e.data as any).keyId === kek.id)!;
    expect(certificate.body.event).toMatchObject({ position: destroyed.position, eventId: destroyed.eventId });
  });

  it('destroying a KEK version before its DEKs were rewrapped takes them with it, as the impact report said', async () => {
    const kek = await activeKey({ tenantId: 'tenant-c', purpose: 'kek' });
    const dek = await activeKey({ tenantId: 'tenant-c', purpose: 'dek', parentKeyId: kek.id });
    const sealed = (await post(`/v1/keys/${dek.id}/encrypt`, { plaintext: b64('lost') })).body.ciphertext;
    await post(`/v1/keys/${kek.id}/deactivate`);
    const impact = (await get(`/v1/keys/${kek.id}/destruction-impact`)).body;
    expect(impact.unreadableKeys.map((k: any) => k.keyId)).toEqual([dek.id]);

    await scheduleUnderDualControl(kek.id, 1);
    expect((await post(`/v1/keys/${kek.id}/destroy`, { version: 1 })).status).toBe(200);

    const after = await post(`/v1/keys/${dek.id}/decrypt`, { ciphertext: sealed });
    expect(after.status).toBe(409);
    expect(after.body.code).toBe('CUSTODY.MATERIAL_NOT_FOUND');
    const certificate = (await get(`/v1/keys/${kek.id}/destruction-certificate`)).body;
    expect(certificate.impact.unreadableKeys.map((k: any) => k.keyId)).toEqual([dek.id]);
  });

  it('answers 409 for the certificate of a version that is not destroyed, and 403 to a service principal', async () => {
    const kek = await activeKey({ tenantId: 'tenant-d', purpose: 'kek' });
    const service = await addPrincipal(server.dataDir, 'svc-e', ['service'], 'tenant-e');
    expect((await get(`/v1/keys/${kek.id}/destruction-certificate`)).status).toBe(409);
    expect((await server.call('GET', `/v1/keys/${kek.id}/destruction-impact`, { token: service })).status).toBe(403);
  });
});

/** A keyledger server in a child process, so that a test can kill it with SIGKILL. */
class ServerProcess {
  private child: ChildProcess | null = null;
  url = '';

  constructor(private readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'keyledger.js'), 'serve'], { env: { ...process.env, ...this.env }, cwd: ROOT });
    this.child = child;
    let output = '';
    this.url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /keyledger listening on (http:\/\/\S+)/.exec(output);
        if (match) resolve(match[1]!);
      });
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
    });
  }

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(this.url + path, {
      method,
      headers: { authorization: `Bearer ${this.env.KEYLEDGER_ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill(signal);
    });
    this.child = null;
  }
}

describe('KEK rewrap survives a crash (kill -9 mid-job, restart, it continues)', () => {
  const DEKS = 60;
  let dataDir: string;
  let server: ServerProcess;
  const env = () => ({
    KEYLEDGER_DATA_DIR: dataDir,
    KEYLEDGER_PORT: '0',
    KEYLEDGER_ADMIN_TOKEN: `klt_crash_admin_${'x'.repeat(24)}`,
    KEYLEDGER_LOG_LEVEL: 'warn',
    KEYLEDGER_REWRAP_PAUSE_MS: '40',
    KEYLEDGER_SCHEDULER_INTERVAL_MS: '0',
  });
  const events = async (): Promise<RecordedEvent[]> => {
    const { eventStore } = openStores(loadConfig(env()), dataDir);
    try {
      return await eventStore.readAll({ after: 0, maxCount: Number.MAX_SAFE_INTEGER });
    } finally {
      await eventStore.close();
    }
  };

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'keyledger-crash-'));
    server = new ServerProcess(env());
  });
  afterAll(async () => {
    await server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('records exactly one DekRewrapped per DEK across the crash, and every DEK still decrypts', async () => {
    await server.start();
    const kek = (await server.call('POST', '/v1/keys', { tenantId: 'acme', purpose: 'kek' })).body;
    await server.call('POST', `/v1/keys/${kek.id}/activate`, {});
    const deks: { id: string; sealed: string }[] = [];
    for (let i = 0; i < DEKS; i++) {
      const dek = (await server.call('POST', '/v1/keys', { tenantId: 'acme', purpose: 'dek', parentKeyId: kek.id })).body;
      await server.call('POST', `/v1/keys/${dek.id}/activate`, {});
      deks.push({ id: dek.id, sealed: (await server.call('POST', `/v1/keys/${dek.id}/encrypt`, { plaintext: b64(`row ${i}`) })).body.ciphertext });
    }

    expect((await server.call('POST', `/v1/keys/${kek.id}/rotate`, {})).status).toBe(200);
    await waitFor(async () => rewrapEvents(await events(), kek.id).filter((e) => e.type === 'DekRewrapped').length >= 8, 'the job to get going');
    await server.kill('SIGKILL');

    const beforeRestart = rewrapEvents(await events(), kek.id);
    const movedBeforeCrash = beforeRestart.filter((e) => e.type === 'DekRewrapped').length;
    expect(movedBeforeCrash).toBeGreaterThan(0);
    expect(movedBeforeCrash).toBeLessThan(DEKS);
    expect(beforeRestart.some((e) => e.type === 'DekRewrapCompleted')).toBe(false);

    await server.start();
    const job = await waitFor(async () => {
      const stream = rewrapEvents(await events(), kek.id);
      return stream.some((e) => e.type === 'DekRewrapCompleted') ? stream : null;
    }, 'the resumed job to complete', 30_000);

    const started = job.filter((e) => e.type === 'DekRewrapStarted');
    const moved = job.filter((e) => e.type === 'DekRewrapped').map((e) => e.data as any);
    expect(started).toHaveLength(1);
    expect(moved).toHaveLength(DEKS);
    expect(new Set(moved.map((d) => d.dekId)).size).toBe(DEKS);
    expect(new Set(moved.map((d) => d.jobId))).toEqual(new Set([(started[0]!.data as any).jobId]));
    expect(job[job.length - 1]!.data).toMatchObject({ outcome: 'completed', rewrapped: DEKS, skipped: 0 });

    const opened = await Promise.all(deks.map((d) => server.call('POST', `/v1/keys/${d.id}/decrypt`, { ciphertext: d.sealed })));
    expect(opened.map((o) => Buffer.from(o.body.plaintext, 'base64').toString())).toEqual(deks.map((_, i) => `row ${i}`));
    const impact = await server.call('GET', `/v1/keys/${kek.id}/destruction-impact?version=1`);
    expect(impact.body.unreadableKeys).toEqual([]);
  });
});

describe('key material never leaves in the clear during rotation and rewrap', () => {
  it('scans events, logs and data files for every DEK and data key seen', async () => {
    const server = await bootServer({ KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS: '0' });
    try {
      const post = (path: string, body: unknown = {}) => server.call('POST', path, { body });
      const recipient = recipientKeys();
      const registered = (await post('/v1/recipients', { name: 'svc', tenantId: 't', publicKeyPem: recipient.publicKeyPem })).body;
      const kek = (await post('/v1/keys', { tenantId: 't', purpose: 'kek' })).body;
      await post(`/v1/keys/${kek.id}/activate`);
      const secrets: Buffer[] = [];
      for (let i = 0; i < 3; i++) {
        const dek = (await post('/v1/keys', { tenantId: 't', purpose: 'dek', parentKeyId: kek.id })).body;
        await post(`/v1/keys/${dek.id}/activate`);
        secrets.push(recipient.unwrap((await post(`/v1/keys/${dek.id}/distribute`, { recipientId: registered.id })).body.wrappedKey));
        secrets.push(Buffer.from((await post(`/v1/keys/${kek.id}/data-keys`)).body.plaintext, 'base64'));
      }
      await post(`/v1/keys/${kek.id}/rotate`);
      await waitFor(async () => (await server.events('DekRewrapCompleted')).length > 0, 'the rewrap job');

      const events = JSON.stringify(await server.events());
      const logs = server.logs.join('\n');
      const files = filesUnder(server.dataDir);
      for (const encoding of secrets.flatMap(encodingsOf)) {
        expect(events.includes(encoding.toString())).toBe(false);
        expect(logs.includes(encoding.toString())).toBe(false);
        expect(files.filter((f) => f.bytes.includes(encoding)).map((f) => f.path)).toEqual([]);
      }
      expect(logs).toContain('rewrapped 3 DEK versions');
    } finally {
      await server.close();
    }
  });
});
