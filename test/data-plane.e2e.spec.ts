import { bootServer, type TestServer } from './support/server.js';
import { addPrincipal, encodingsOf, filesUnder, recipientKeys } from './support/fixtures.js';

/**
 * The data plane of SPEC §4 over real HTTP: data keys, encrypt, decrypt and rewrap, inside OUP
 * and RUP exactly as the table of SPEC §3 says, tenant isolation, and a record of every use.
 */
describe('data plane over HTTP', () => {
  let server: TestServer;
  let serviceA: string;
  let serviceB: string;
  let auditor: string;
  /** Every secret a test saw; the last test proves none of them reached events, logs or files. */
  const secrets: Buffer[] = [];

  beforeAll(async () => {
    server = await bootServer({ KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS: '0' });
    [serviceA, serviceB, auditor] = await Promise.all([
      addPrincipal(server.dataDir, 'billing-a', ['service'], 'tenant-a'),
      addPrincipal(server.dataDir, 'billing-b', ['service'], 'tenant-b'),
      addPrincipal(server.dataDir, 'auditor', ['auditor']),
    ]);
  });
  afterAll(() => server.close());

  const post = (path: string, body: unknown = {}, token?: string, headers?: Record<string, string>) =>
    server.call('POST', path, { body, ...(token ? { token } : {}), ...(headers ? { headers } : {}) });
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const remember = (base64: string): Buffer => {
    const bytes = Buffer.from(base64, 'base64');
    secrets.push(bytes);
    return bytes;
  };
  const generate = async (body: Record<string, unknown>) => {
    const res = await post('/v1/keys', body);
    expect(res.status).toBe(201);
    return res.body;
  };
  const activeKek = async (tenantId: string) => {
    const kek = await generate({ tenantId, purpose: 'kek', classifications: ['ephi'] });
    expect((await post(`/v1/keys/${kek.id}/activate`)).status).toBe(200);
    return kek;
  };
  const activeDek = async (tenantId: string, kekId: string) => {
    const dek = await generate({ tenantId, purpose: 'dek', parentKeyId: kekId });
    expect((await post(`/v1/keys/${dek.id}/activate`)).status).toBe(200);
    return dek;
  };
  const usesOf = async (keyId: string) => (await server.events()).filter((e) => e.streamId === `key-usage-${keyId}`);
  const lifecycleOf = async (keyId: string) => (await server.events()).filter((e) => e.streamId === `key-${keyId}`);
  /** The documented envelope header: "KL", format 1, kind, uint32 version, key id. */
  const header = (base64: string) => {
    const bytes = Buffer.from(base64, 'base64');
    const idLength = bytes.readUInt8(8);
    return {
      magic: bytes.subarray(0, 2).toString('ascii'),
      format: bytes.readUInt8(2),
      kind: bytes.readUInt8(3),
      version: bytes.readUInt32BE(4),
      keyId: bytes.subarray(9, 9 + idLength).toString('ascii'),
    };
  };

  describe('data keys', () => {
    it('gives a 32-byte data key and a blob naming KEK and version; decrypt gives the same key back', async () => {
      const kek = await activeKek('tenant-a');

      const res = await post(`/v1/keys/${kek.id}/data-keys`, {}, serviceA, { 'x-correlation-id': 'corr-dk-1' });

      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['ciphertextBlob', 'keyId', 'plaintext', 'version']);
      expect(res.body).toMatchObject({ keyId: kek.id, version: 1 });
      const plaintext = remember(res.body.plaintext);
      expect(plaintext).toHaveLength(32);
      expect(header(res.body.ciphertextBlob)).toEqual({ magic: 'KL', format: 1, kind: 2, version: 1, keyId: kek.id });
      const opened = await post(`/v1/keys/${kek.id}/decrypt`, { ciphertextBlob: res.body.ciphertextBlob }, serviceA);
      expect(opened.status).toBe(200);
      expect(Buffer.from(opened.body.plaintext, 'base64')).toEqual(plaintext);
    });

    it('records each use on the key usage stream (principal, tenant, version, operation, correlation id), never on the lifecycle stream', async () => {
      const kek = await activeKek('tenant-a');
      const lifecycleBefore = await lifecycleOf(kek.id);

      const res = await post(`/v1/keys/${kek.id}/data-keys`, {}, serviceA, { 'x-correlation-id': 'corr-dk-2' });
      remember(res.body.plaintext);
      await post(`/v1/keys/${kek.id}/decrypt`, { ciphertextBlob: res.body.ciphertextBlob }, serviceA, { 'x-correlation-id': 'corr-dk-3' });

      const uses = await usesOf(kek.id);
      expect(uses.map((e) => [e.type, (e.data as any).operation, (e.data as any).version, e.metadata.correlationId, e.metadata.tenantId])).toEqual([
        ['KeyUsed', 'generate-data-key', 1, 'corr-dk-2', 'tenant-a'],
        ['KeyUsed', 'unwrap', 1, 'corr-dk-3', 'tenant-a'],
      ]);
      expect(uses.every((e) => e.metadata.actor !== 'system' && typeof (e.data as any).usedAt === 'string')).toBe(true);
      expect(await lifecycleOf(kek.id)).toEqual(lifecycleBefore);
    });

    it('binds an optional context: the blob opens only with the same context', async () => {
      const kek = await activeKek('tenant-a');
      const context = { service: 'billing', table: 'claims' };
      const res = await post(`/v1/keys/${kek.id}/data-keys`, { context }, serviceA);
      remember(res.body.plaintext);

      const without = await post(`/v1/keys/${kek.id}/decrypt`, { ciphertextBlob: res.body.ciphertextBlob }, serviceA);
      const reordered = await post(`/v1/keys/${kek.id}/decrypt`, { ciphertextBlob: res.body.ciphertextBlob, context: { table: 'claims', service: 'billing' } }, serviceA);

      expect(without.status).toBe(422);
      expect(without.body.code).toBe('CUSTODY.DECRYPTION_FAILED');
      expect(reordered.status).toBe(200);
      const failed = (await usesOf(kek.id)).filter((e) => e.type === 'KeyUseFailed');
      expect(failed.map((e) => (e.data as any).code)).toEqual(['CUSTODY.DECRYPTION_FAILED']);
    });

    it('serves 24 concurrent requests on one KEK without conflicts, each recorded once', async () => {
      const kek = await activeKek('tenant-a');

      const answers = await Promise.all(Array.from({ length: 24 }, () => post(`/v1/keys/${kek.id}/data-keys`, {}, serviceA)));

      expect(answers.map((a) => a.status)).toEqual(Array(24).fill(200));
      answers.forEach((a) => remember(a.body.plaintext));
      expect(new Set(answers.map((a) => a.body.plaintext)).size).toBe(24);
      expect((await usesOf(kek.id)).filter((e) => e.type === 'KeyUsed')).toHaveLength(24);
    });

    it('are generated under a KEK only: asked of a DEK, the refusal is recorded as a denied use', async () => {
      const kek = await activeKek('tenant-a');
      const dek = await activeDek('tenant-a', kek.id);

      const res = await post(`/v1/keys/${dek.id}/data-keys`, {}, serviceA);

      expect(res.status).toBe(409);
      expect(res.body.code).toBe('KEY.USAGE_NOT_ALLOWED');
      const denied = (await usesOf(dek.id)).filter((e) => e.type === 'KeyUseDenied');
      expect(denied.map((e) => (e.data as any).operation)).toEqual(['generate-data-key']);
    });
  });

  describe('encrypt and decrypt', () => {
    it('round-trips a payload with a DEK, the context bound as associated data', async () => {
      const kek = await activeKek('tenant-a');
      const dek = await activeDek('tenant-a', kek.id);
      const plaintext = b64('{"mrn":"MRN-88172","dx":"F32.1"}');
      secrets.push(Buffer.from(plaintext, 'base64'));
      const context = { patient: 'p-1', purpose: 'treatment' };

      const sealed = await post(`/v1/keys/${dek.id}/encrypt`, { plaintext, context }, serviceA);

      expect(sealed.status).toBe(200);
      expect(header(sealed.body.ciphertext)).toEqual({ magic: 'KL', format: 1, kind: 1, version: 1, keyId: dek.id });
      expect(Buffer.from(sealed.body.ciphertext, 'base64').includes(Buffer.from(plaintext, 'base64'))).toBe(false);
      const opened = await post(`/v1/keys/${dek.id}/decrypt`, { ciphertext: sealed.body.ciphertext, context }, serviceA);
      expect(opened.body).toEqual({ plaintext });
      const other = await post(`/v1/keys/${dek.id}/decrypt`, { ciphertext: sealed.body.ciphertext, context: { ...context, purpose: 'payment' } }, serviceA);
      expect(other.status).toBe(422);
      expect(other.body.code).toBe('CUSTODY.DECRYPTION_FAILED');
    });

    it('refuses bad input with 400 and appends nothing', async () => {
      const kek = await activeKek('tenant-a');
      const before = await server.eventCount();
      const tooLarge = Buffer.alloc(4097, 1).toString('base64');

      const answers = await Promise.all([
        post(`/v1/keys/${kek.id}/encrypt`, { plaintext: tooLarge }, serviceA),
        post(`/v1/keys/${kek.id}/encrypt`, { plaintext: 'not base64!' }, serviceA),
        post(`/v1/keys/${kek.id}/encrypt`, { plaintext: b64('x'), context: { nested: { no: 'flat' } } }, serviceA),
        post(`/v1/keys/${kek.id}/encrypt`, { plaintext: b64('x'), extra: 1 }, serviceA),
        post(`/v1/keys/${kek.id}/decrypt`, {}, serviceA),
        post(`/v1/keys/${kek.id}/decrypt`, { ciphertext: b64('x'), ciphertextBlob: b64('y') }, serviceA),
        post(`/v1/keys/${kek.id}/decrypt`, { ciphertext: b64('certainly not an envelope') }, serviceA),
      ]);

      expect(answers.map((a) => [a.status, a.body.code])).toEqual(Array(7).fill([400, 'VALIDATION.INVALID_INPUT']));
      expect(await server.eventCount()).toBe(before);
    });

    it('accepts exactly 4 KiB', async () => {
      const kek = await activeKek('tenant-a');
      const res = await post(`/v1/keys/${kek.id}/encrypt`, { plaintext: Buffer.alloc(4096, 7).toString('base64') }, serviceA);
      expect(res.status).toBe(200);
    });

    it('refuses a ciphertext of another key (even of the same tenant) before using any key', async () => {
      const kek = await activeKek('tenant-a');
      const other = await activeKek('tenant-a');
      const sealed = await post(`/v1/keys/${kek.id}/encrypt`, { plaintext: b64('x') }, serviceA);

      const res = await post(`/v1/keys/${other.id}/decrypt`, { ciphertext: sealed.body.ciphertext }, serviceA);

      expect(res.status).toBe(400);
      expect(res.body.detail).toContain(kek.id);
      expect(await usesOf(other.id)).toEqual([]);
    });

    it('refuses a data-key blob given as a ciphertext, and a ciphertext given as a blob', async () => {
      const kek = await activeKek('tenant-a');
      const blob = (await post(`/v1/keys/${kek.id}/data-keys`, {}, serviceA)).body;
      remember(blob.plaintext);
      const sealed = (await post(`/v1/keys/${kek.id}/encrypt`, { plaintext: b64('x') }, serviceA)).body;

      const asCiphertext = await post(`/v1/keys/${kek.id}/decrypt`, { ciphertext: blob.ciphertextBlob }, serviceA);
      const asBlob = await post(`/v1/keys/${kek.id}/decrypt`, { ciphertextBlob: sealed.ciphertext }, serviceA);

      expect([asCiphertext.status, asBlob.status]).toEqual([400, 400]);
    });
  });

  describe('the protect/process table of SPEC §3', () => {
    it('refuses a pre-activation key both ways, and records the denial', async () => {
      const kek = await generate({ tenantId: 'tenant-a', purpose: 'kek' });

      const res = await post(`/v1/keys/${kek.id}/data-keys`, {}, serviceA);

      expect(res.status).toBe(409);
      expect(res.body.code).toBe('KEY.USAGE_NOT_ALLOWED');
      const [denied] = await usesOf(kek.id);
      expect(denied).toMatchObject({ type: 'KeyUseDenied', data: { operation: 'generate-data-key', version: 1, code: 'KEY.USAGE_NOT_ALLOWED' } });
    });

    it('after rotation, the deactivated version still processes; new data keys use the new version', async () => {
      const kek = await activeKek('tenant-a');
      const old = (await post(`/v1/keys/${kek.id}/data-keys`, {}, serviceA)).body;
      remember(old.plaintext);
      const oldCiphertext = (await post(`/v1/keys/${kek.id}/encrypt`, { plaintext: b64('kept') }, serviceA)).body.ciphertext;
      expect((await post(`/v1/keys/${kek.id}/rotate`)).status).toBe(200);

      const fresh = await post(`/v1/keys/${kek.id}/data-keys`, {}, serviceA);
      remember(fresh.body.plaintext);
      const reopened = await post(`/v1/keys/${kek.id}/decrypt`, { ciphertextBlob: old.ciphertextBlob }, serviceA);
      const decrypted = await post(`/v1/keys/${kek.id}/decrypt`, { ciphertext: oldCiphertext }, serviceA);

      expect(fresh.body.version).toBe(2);
      expect(Buffer.from(reopened.body.plaintext, 'base64')).toEqual(Buffer.from(old.plaintext, 'base64'));
      expect(Buffer.from(decrypted.body.plaintext, 'base64').toString()).toBe('kept');
    });

    it('refuses both ways while suspended, and again processes once reactivated', async () => {
      const kek = await activeKek('tenant-a');
      const sealed = (await post(`/v1/keys/${kek.id}/encrypt`, { plaintext: b64('s') }, serviceA)).body.ciphertext;
      await post(`/v1/keys/${kek.id}/suspend`, { reason: 'investigation' });

      const protect = await post(`/v1/keys/${kek.id}/encrypt`, { plaintext: b64('s') }, serviceA);
      const processing = await post(`/v1/keys/${kek.id}/decrypt`, { ciphertext: sealed }, serviceA);
      await post(`/v1/keys/${kek.id}/reactivate`);
      const again = await post(`/v1/keys/${kek.id}/decrypt`, { ciphertext: sealed }, serviceA);

      expect([protect.status, processing.status, again.status]).toEqual([409, 409, 200]);
      const denied = (await usesOf(kek.id)).filter((e) => e.type === 'KeyUseDenied').map((e) => (e.data as any).operation);
      expect(denied).toEqual(['encrypt', 'decrypt']);
    });
  });

  describe('rewrap', () => {
    it('moves a ciphertext and a data-key blob to the newest version without exposing the plaintext', async () => {
      const kek = await activeKek('tenant-a');
      const context = { row: '17' };
      const sealed = (await post(`/v1/keys/${kek.id}/encrypt`, { plaintext: b64('payload'), context }, serviceA)).body.ciphertext;
      const dataKey = (await post(`/v1/keys/${kek.id}/data-keys`, {}, serviceA)).body;
      remember(dataKey.plaintext);
      await post(`/v1/keys/${kek.id}/rotate`);

      const moved = await post(`/v1/keys/${kek.id}/rewrap`, { ciphertext: sealed, context }, serviceA);
      const movedBlob = await post(`/v1/keys/${kek.id}/rewrap`, { ciphertextBlob: dataKey.ciphertextBlob }, serviceA);

      expect(moved.status).toBe(200);
      expect(Object.keys(moved.body)).toEqual(['ciphertext']);
      expect(header(moved.body.ciphertext).version).toBe(2);
      expect(Object.keys(movedBlob.body)).toEqual(['ciphertextBlob']);
      expect(header(movedBlob.body.ciphertextBlob)).toMatchObject({ version: 2, kind: 2 });
      const opened = await post(`/v1/keys/${kek.id}/decrypt`, { ciphertext: moved.body.ciphertext, context }, serviceA);
      expect(Buffer.from(opened.body.plaintext, 'base64').toString()).toBe('payload');
      const reopened = await post(`/v1/keys/${kek.id}/decrypt`, { ciphertextBlob: movedBlob.body.ciphertextBlob }, serviceA);
      expect(reopened.body.plaintext).toBe(dataKey.plaintext);
      const rewraps = (await usesOf(kek.id)).filter((e) => (e.data as any).operation === 'rewrap');
      expect(rewraps.map((e) => [(e.data as any).version, (e.data as any).fromVersion])).toEqual([[2, 1], [2, 1]]);
    });
  });

  describe('tenants and roles', () => {
    it("answers 404 to a service using another tenant's key, and records the attempt", async () => {
      const kek = await activeKek('tenant-a');
      const blob = (await post(`/v1/keys/${kek.id}/data-keys`, {}, serviceA)).body;
      remember(blob.plaintext);

      const answers = await Promise.all([
        post(`/v1/keys/${kek.id}/data-keys`, {}, serviceB),
        post(`/v1/keys/${kek.id}/decrypt`, { ciphertextBlob: blob.ciphertextBlob }, serviceB),
        post(`/v1/keys/${kek.id}/encrypt`, { plaintext: b64('x') }, serviceB),
      ]);

      expect(answers.map((a) => [a.status, a.body.code])).toEqual(Array(3).fill([404, 'KEY.NOT_FOUND']));
      const probes = (await server.events('CrossTenantAccessDenied')).filter((e) => (e.data as any).keyId === kek.id);
      expect(probes.map((e) => (e.data as any).operation).sort()).toEqual(['encrypt', 'generate-data-key', 'unwrap']);
      expect(probes.every((e) => (e.data as any).principalTenantId === 'tenant-b' && e.metadata.tenantId === 'tenant-a')).toBe(true);
    });

    it("cannot open another tenant's blob through its own KEK", async () => {
      const kekA = await activeKek('tenant-a');
      const kekB = await activeKek('tenant-b');
      const blob = (await post(`/v1/keys/${kekA.id}/data-keys`, {}, serviceA)).body;
      remember(blob.plaintext);

      const res = await post(`/v1/keys/${kekB.id}/decrypt`, { ciphertextBlob: blob.ciphertextBlob }, serviceB);

      expect(res.status).toBe(400);
    });

    it('lets key administrators use the data plane, and refuses auditors', async () => {
      const kek = await activeKek('tenant-a');
      const admin = await post(`/v1/keys/${kek.id}/encrypt`, { plaintext: b64('x') });
      const byAuditor = await post(`/v1/keys/${kek.id}/encrypt`, { plaintext: b64('x') }, auditor);
      expect([admin.status, byAuditor.status]).toEqual([200, 403]);
    });
  });

  describe('custodian choice', () => {
    it('refuses a key asked of another custodian, or from a source the software custodian cannot honour, appending nothing', async () => {
      const before = await server.eventCount();

      const otherCustodian = await post('/v1/keys', { tenantId: 'tenant-a', purpose: 'kek', custodian: 'aws-kms' });
      const adopted = await post('/v1/keys', { tenantId: 'tenant-a', purpose: 'kek', source: { kind: 'adopt', externalId: 'alias/bedrock-cmk' } });

      expect([otherCustodian.status, otherCustodian.body.code]).toEqual([400, 'VALIDATION.INVALID_INPUT']);
      expect([adopted.status, adopted.body.code]).toEqual([422, 'CUSTODY.UNSUPPORTED_KEY_SOURCE']);
      expect(await server.eventCount()).toBe(before);
    });
  });

  describe('idempotency', () => {
    it('never stores an answer that carries a data key: a retry with the same Idempotency-Key runs again', async () => {
      const kek = await activeKek('tenant-a');
      const headers = { 'idempotency-key': 'dk-retry-1' };

      const first = await post(`/v1/keys/${kek.id}/data-keys`, {}, serviceA, headers);
      const retry = await post(`/v1/keys/${kek.id}/data-keys`, {}, serviceA, headers);

      remember(first.body.plaintext);
      remember(retry.body.plaintext);
      expect([first.status, retry.status]).toEqual([200, 200]);
      expect(retry.headers.get('idempotency-replayed')).toBeNull();
      expect(retry.body.plaintext).not.toBe(first.body.plaintext);
    });
  });

  describe('after destruction', () => {
    it('every route to the material fails, and the material is in no file of the data dir', async () => {
      const kek = await activeKek('tenant-a');
      const dek = await activeDek('tenant-a', kek.id);
      const recipient = recipientKeys();
      const registered = (await post('/v1/recipients', { name: 'svc', tenantId: 'tenant-a', publicKeyPem: recipient.publicKeyPem })).body;
      const material = recipient.unwrap((await post(`/v1/keys/${dek.id}/distribute`, { recipientId: registered.id })).body.wrappedKey);
      secrets.push(material);
      const sealed = (await post(`/v1/keys/${dek.id}/encrypt`, { plaintext: b64('doomed') }, serviceA)).body.ciphertext;
      expect(filesUnder(server.dataDir).some((f) => encodingsOf(material).some((e) => f.bytes.includes(e)))).toBe(false);
      await post(`/v1/keys/${dek.id}/rotate`);
      expect((await post(`/v1/keys/${dek.id}/schedule-destruction`, { version: 1, waitingPeriodDays: 0 })).status).toBe(200);
      expect((await post(`/v1/keys/${dek.id}/destroy`, { version: 1 })).status).toBe(200);

      const answers = await Promise.all([
        post(`/v1/keys/${dek.id}/decrypt`, { ciphertext: sealed }, serviceA),
        post(`/v1/keys/${dek.id}/rewrap`, { ciphertext: sealed }, serviceA),
        post(`/v1/keys/${dek.id}/distribute`, { recipientId: registered.id, version: 1 }, serviceA),
      ]);

      expect(answers.map((a) => [a.status, a.body.code])).toEqual(Array(3).fill([409, 'KEY.USAGE_NOT_ALLOWED']));
      const destroyed = (await server.events('KeyVersionDestroyed')).find((e) => (e.data as any).keyId === dek.id)!;
      expect((destroyed.data as any).evidence).toMatchObject({ custodian: 'software', verifiedAbsent: true });
    });
  });

  it('leaves no data key, plaintext or key material in events, logs or data files', async () => {
    const events = JSON.stringify(await server.events());
    const logs = server.logs.join('\n');
    const files = filesUnder(server.dataDir);
    expect(secrets.length).toBeGreaterThan(30);
    for (const secret of secrets) {
      for (const encoding of encodingsOf(secret)) {
        expect(events.includes(encoding.toString())).toBe(false);
        expect(logs.includes(encoding.toString())).toBe(false);
        expect(files.filter((f) => f.bytes.includes(encoding)).map((f) => f.path)).toEqual([]);
      }
    }
  });
});
