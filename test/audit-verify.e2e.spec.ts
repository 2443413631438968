import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootServer, storesUnderTest, type TestServer } from './support/server.js';
import { PostgresTamper, SqliteTamper, type LogTamper } from './audit-support.js';

/**
 * Issue 6 as a user meets it, on each store: a running server seals its log with signed
 * checkpoints (every N events, every T milliseconds, and at shutdown); `GET /v1/audit/verify` and
 * `keyledger audit verify` say it is intact, or which event was tampered with; the bundle from
 * `GET /v1/audit/export` verifies offline with `keyledger audit verify-bundle`, pinned to the key
 * from `GET /v1/audit/public-key`.
 */
const tamperOf = (server: TestServer): Promise<LogTamper> =>
  server.storeEnv.KEYLEDGER_PG_URL ? PostgresTamper.connect(server.storeEnv.KEYLEDGER_PG_URL) : Promise.resolve(new SqliteTamper(join(server.dataDir, 'events.db')));

/** The CLI's exit code and output, also when it fails (execFile rejects on a non-zero exit). */
const run = async (server: TestServer, args: string[]): Promise<{ code: number; stdout: string }> => {
  try {
    return { code: 0, stdout: (await server.cli(args)).stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '' };
  }
};

/** Member names of a ustar archive, read here without our own tar code. */
const tarNames = (tar: Buffer): string[] => {
  const names: string[] = [];
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
    names.push(tar.subarray(at, at + 100).toString('utf8').replace(/\0.*$/s, ''));
    const size = parseInt(tar.subarray(at + 124, at + 136).toString('utf8').trim(), 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
};

const waitFor = async <T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe.each(storesUnderTest())('audit integrity on $name', ({ env }) => {
  let server: TestServer;
  let files: string;
  beforeAll(async () => {
    server = await bootServer({ ...env, KEYLEDGER_CHECKPOINT_EVERY: '4', KEYLEDGER_CHECKPOINT_INTERVAL_MS: '300' });
    files = mkdtempSync(join(tmpdir(), 'keyledger-audit-e2e-'));
    for (let i = 0; i < 5; i += 1) {
      const key = (await server.call('POST', '/v1/keys', { body: { tenantId: 'tenant-audit', purpose: 'kek' } })).body;
      expect((await server.call('POST', `/v1/keys/${key.id}/activate`, { body: {} })).status).toBe(200);
    }
  });
  afterAll(async () => {
    await server.close();
    rmSync(files, { recursive: true, force: true });
  });

  const verify = (token?: string | null) => server.call('GET', '/v1/audit/verify', token === undefined ? {} : { token });

  it('seals the log as it grows, and says it is intact up to the last checkpoint', async () => {
    const { body } = await waitFor(() => verify(), ({ body }) => body.unsealedEvents === 0);
    expect(body).toMatchObject({ intact: true, unsealedEvents: 0, failures: [], failureCount: 0 });
    expect(body.checkpoints).toBeGreaterThanOrEqual(3);
    expect(body.eventsChecked).toBeGreaterThanOrEqual(11);
    expect(body.summary).toBe(`intact up to position ${body.lastCheckpoint.lastPosition}, checkpoint #${body.checkpoints} (${body.eventsChecked} events, root ${body.lastCheckpoint.rootHash})`);
    const checkpoints = await server.events('AuditCheckpointSigned');
    expect(checkpoints.map((e) => e.streamId)).toEqual(checkpoints.map(() => 'audit-checkpoints'));
    expect(checkpoints.map((e) => (e.data as any).head.sequence)).toEqual(checkpoints.map((_, i) => i + 1));
  });

  it('lets auditors, operators and key admins verify, and no one else', async () => {
    const auditor = await server.addPrincipal('audit-reader', ['auditor']);
    const service = await server.addPrincipal('audit-svc', ['service'], 'tenant-audit');
    expect((await verify(auditor)).status).toBe(200);
    expect((await verify(service)).status).toBe(403);
    expect((await verify(null)).status).toBe(401);
    expect((await server.call('GET', '/v1/audit/verify?expectCheckpoint=banana')).status).toBe(400);
  });

  it('exports a bundle that verifies offline, pinned to the published key; a changed byte fails', async () => {
    const res = await fetch(`${server.url}/v1/audit/export`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-tar');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="keyledger-audit-1-\d+\.tar"$/);
    const tar = Buffer.from(await res.arrayBuffer());
    expect(tarNames(tar)).toEqual(['manifest.json', 'manifest.json.sig', 'public-key.pem', 'checkpoints.jsonl', 'consistency-proofs.jsonl', 'events.jsonl', 'inclusion-proofs.jsonl']);
    writeFileSync(join(files, 'bundle.tar'), tar);
    const key = (await server.call('GET', '/v1/audit/public-key')).body;
    expect(key).toMatchObject({ algorithm: 'Ed25519', keyId: expect.stringMatching(/^[0-9a-f]{64}$/) });
    writeFileSync(join(files, 'audit.pem'), key.publicKeyPem);

    const intact = await run(server, ['audit', 'verify-bundle', join(files, 'bundle.tar'), '--public-key', join(files, 'audit.pem')]);
    expect(intact.stdout).toMatch(/^bundle intact: \d+ events from position 1 to \d+ .*signed manifest; verified with pinned keys$/m);
    expect(intact.code).toBe(0);

    // The tar's checksums cover its headers only: this change reaches the bundle's verifier.
    const at = tar.indexOf('"type":"KeyVersionActivated"');
    expect(at).toBeGreaterThan(0);
    const altered = Buffer.from(tar);
    altered.write('"type":"KeyVersionSuspended"', at);
    writeFileSync(join(files, 'altered.tar'), altered);
    const failed = await run(server, ['audit', 'verify-bundle', join(files, 'altered.tar'), '--public-key', join(files, 'audit.pem')]);
    expect(failed.code).toBe(3);
    expect(failed.stdout).toMatch(/^FAILED: event at position \d+ \(KeyVersionSuspended on key-.*\(events\.jsonl line \d+\) was modified/);
  });

  it('refuses an export range that holds nothing, with a problem answer', async () => {
    const res = await server.call('GET', '/v1/audit/export?from=999999');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', details: { auditCode: 'AUDIT.INVALID_RANGE' } });
  });

  it('verifies from the CLI on the store, and locates an event altered behind the server’s back', async () => {
    await waitFor(() => verify(), ({ body }) => body.unsealedEvents === 0);
    const clean = await run(server, ['audit', 'verify']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^intact up to position \d+, checkpoint #\d+/);

    const tamper = await tamperOf(server);
    let position = 0;
    try {
      position = (await tamper.eventPositions())[3]!;
      const event = await tamper.eventAt(position);
      await tamper.setData(position, { ...(event.data as object), tenantId: 'tenant-evil' });
    } finally {
      await tamper.close();
    }
    const cli = await run(server, ['audit', 'verify']);
    expect(cli.code).toBe(3);
    expect(cli.stdout).toContain(`FAILED: event at position ${position} (`);
    expect(cli.stdout).toContain('  - [event-modified] ');
    const { body } = await verify();
    expect(body.intact).toBe(false);
    expect(body.failures[0]).toMatchObject({ kind: 'event-modified', position });
    expect(body.intactThrough.position).toBe(position - 1);
  });
});

describe.each(storesUnderTest())('audit checkpoints at shutdown on $name', ({ env }) => {
  it('seals the last events when the server stops, and carries on the sequence after a restart', async () => {
    // Checkpoints neither by count nor by time here: only the shutdown can seal these events.
    const server = await bootServer({ ...env, KEYLEDGER_CHECKPOINT_EVERY: '10000', KEYLEDGER_CHECKPOINT_INTERVAL_MS: '86400000' });
    try {
      await server.call('POST', '/v1/keys', { body: { tenantId: 'tenant-stop', purpose: 'kek' } });
      expect(await server.eventCount('AuditCheckpointSigned')).toBe(0);
      await server.restart();
      const [first] = await server.events('AuditCheckpointSigned');
      const lastEvent = (await server.events()).filter((e) => e.streamId !== 'audit-checkpoints').at(-1)!;
      expect((first!.data as any).head).toMatchObject({ sequence: 1, lastPosition: lastEvent.position });

      await server.call('POST', '/v1/keys', { body: { tenantId: 'tenant-stop', purpose: 'kek' } });
      await server.restart();
      const heads = (await server.events('AuditCheckpointSigned')).map((e) => (e.data as any).head);
      expect(heads.map((h) => h.sequence)).toEqual([1, 2]);
      const { body } = await server.call('GET', '/v1/audit/verify');
      expect(body).toMatchObject({ intact: true, unsealedEvents: 0, checkpoints: 2 });
    } finally {
      await server.close();
    }
  });
});
