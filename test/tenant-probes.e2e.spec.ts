import { addPrincipal, recipientKeys } from './support/fixtures.js';
import { bootServer, type Answer, type TestServer } from './support/server.js';

/**
 * Tenant probes (SPEC §10): a service principal of tenant B tries every key route on tenant A's
 * KEK and DEK. Each answer is the one a key that does not exist gets (404 KEY.NOT_FOUND, the same
 * detail but for the id), and each attempt is recorded as one CrossTenantAccessDenied event. Its
 * inventory and audit views show nothing of tenant A.
 */
describe('tenant probes', () => {
  let server: TestServer;
  let serviceB: string;
  let kekA: string;
  let dekA: string;
  let kekB: string;
  let recipientB: string;
  let ciphertextA: string;
  let blobA: string;

  /** Looks like a key id, exists nowhere. */
  const MISSING = 'no-such-key-0000';

  beforeAll(async () => {
    server = await bootServer();
    serviceB = await addPrincipal(server.dataDir, 'svc-b', ['service'], 'tenant-b');
    const created = async (path: string, body: unknown, token?: string) => {
      const res = await server.call('POST', path, { body, ...(token ? { token } : {}) });
      expect(res.status).toBeLessThan(300);
      return res.body;
    };
    kekA = (await created('/v1/keys', { tenantId: 'tenant-a', purpose: 'kek', classifications: ['ephi'] })).id;
    await created(`/v1/keys/${kekA}/activate`, {});
    dekA = (await created('/v1/keys', { tenantId: 'tenant-a', purpose: 'dek', parentKeyId: kekA })).id;
    await created(`/v1/keys/${dekA}/activate`, {});
    kekB = (await created('/v1/keys', { tenantId: 'tenant-b', purpose: 'kek' })).id;
    await created(`/v1/keys/${kekB}/activate`, {});
    // Real sealed inputs of tenant A, made by the admin (key-admin may use the data plane).
    ciphertextA = (await created(`/v1/keys/${dekA}/encrypt`, { plaintext: Buffer.from('tenant a secret').toString('base64') })).ciphertext;
    blobA = (await created(`/v1/keys/${kekA}/data-keys`, {})).ciphertextBlob;
    // A recipient of the prober's own tenant: the only thing wrong in its distribute is the key.
    recipientB = (await created('/v1/recipients', { name: 'b-vault', tenantId: 'tenant-b', publicKeyPem: recipientKeys().publicKeyPem }, serviceB)).id;
  });
  afterAll(() => server.close());

  const asB = (method: string, path: string, body?: unknown): Promise<Answer> =>
    server.call(method, path, { token: serviceB, ...(body !== undefined ? { body } : {}) });
  const withoutId = (detail: unknown, id: string) => String(detail).split(id).join('<id>');
  const probes = () => server.eventCount('CrossTenantAccessDenied');

  type Probe = [string, string, (id: string) => string, (id: string) => unknown];
  const b64 = Buffer.from('probe').toString('base64');
  /**
   * A sealed input names its key in its header ("KL", format, kind, uint32 version, id length, id):
   * the same sealed bytes, naming the key the request is for (a mismatch is refused as invalid).
   */
  const naming = (sealed: string, id: string) => {
    const bytes = Buffer.from(sealed, 'base64');
    const idLength = bytes.readUInt8(8);
    return Buffer.concat([bytes.subarray(0, 8), Buffer.from([id.length]), Buffer.from(id, 'ascii'), bytes.subarray(9 + idLength)]).toString('base64');
  };
  /** Routes the service role is allowed to call on a key. */
  const keyRoutes: Probe[] = [
    ['GET /v1/keys/{id}', 'GET', (id) => `/v1/keys/${id}`, () => undefined],
    ['GET /v1/keys/{id}/history', 'GET', (id) => `/v1/keys/${id}/history`, () => undefined],
    ['GET /v1/keys/{id}/lineage', 'GET', (id) => `/v1/keys/${id}/lineage`, () => undefined],
    ['POST /v1/keys/{id}/distribute', 'POST', (id) => `/v1/keys/${id}/distribute`, () => ({ recipientId: recipientB })],
    ['POST /v1/keys/{id}/data-keys', 'POST', (id) => `/v1/keys/${id}/data-keys`, () => ({})],
    ['POST /v1/keys/{id}/encrypt', 'POST', (id) => `/v1/keys/${id}/encrypt`, () => ({ plaintext: b64 })],
    ['POST /v1/keys/{id}/decrypt (ciphertext)', 'POST', (id) => `/v1/keys/${id}/decrypt`, (id) => ({ ciphertext: naming(ciphertextA, id) })],
    ['POST /v1/keys/{id}/decrypt (ciphertextBlob)', 'POST', (id) => `/v1/keys/${id}/decrypt`, (id) => ({ ciphertextBlob: naming(blobA, id) })],
    ['POST /v1/keys/{id}/rewrap (ciphertext)', 'POST', (id) => `/v1/keys/${id}/rewrap`, (id) => ({ ciphertext: naming(ciphertextA, id) })],
    ['POST /v1/keys/{id}/rewrap (ciphertextBlob)', 'POST', (id) => `/v1/keys/${id}/rewrap`, (id) => ({ ciphertextBlob: naming(blobA, id) })],
  ];

  describe.each([
    ['KEK', () => kekA],
    ['DEK', () => dekA],
  ])("on tenant A's %s", (_, keyOf) => {
    it.each(keyRoutes)('%s answers like a missing key and is recorded once', async (_route, method, path, body) => {
      const id = keyOf();
      const missing = await asB(method, path(MISSING), body(MISSING));
      expect({ status: missing.status, code: missing.body?.code }).toEqual({ status: 404, code: 'KEY.NOT_FOUND' });

      const before = await probes();
      const probed = await asB(method, path(id), body(id));
      const after = await probes();

      expect({ status: probed.status, code: probed.body?.code }).toEqual({ status: 404, code: 'KEY.NOT_FOUND' });
      expect(probed.headers.get('content-type')).toContain('application/problem+json');
      expect({ title: probed.body.title, type: probed.body.type, detail: withoutId(probed.body.detail, id) }).toEqual({
        title: missing.body.title,
        type: missing.body.type,
        detail: withoutId(missing.body.detail, MISSING),
      });
      // Nothing of the key (not its tenant, not its purpose) in the answer.
      expect(JSON.stringify(probed.body)).not.toContain('tenant-a');
      expect(after - before).toBe(1);
      const [recorded] = (await server.events('CrossTenantAccessDenied')).slice(-1);
      expect(recorded!.data).toMatchObject({ keyId: id, principalTenantId: 'tenant-b' });
    });

    // The service role may not call the destruction reports at all: the role check answers
    // before any key is looked at, so it must answer the same for tenant A's key and for none.
    it.each(['destruction-impact', 'destruction-certificate'])('GET /v1/keys/{id}/%s is refused by role, the same as for a missing key', async (report) => {
      const id = keyOf();
      const missing = await asB('GET', `/v1/keys/${MISSING}/${report}`);
      const before = await probes();
      const probed = await asB('GET', `/v1/keys/${id}/${report}`);
      expect(await probes()).toBe(before);
      expect(probed.status).toBe(403);
      expect({ status: probed.status, code: probed.body?.code, detail: withoutId(probed.body?.detail, id) }).toEqual({
        status: missing.status,
        code: missing.body?.code,
        detail: withoutId(missing.body?.detail, MISSING),
      });
    });
  });

  it('shows no tenant A key in the inventory and no tenant A entry in the audit view', async () => {
    // Wait for the projections to have caught up with everything above (the admin sees it all).
    const deadline = Date.now() + 10_000;
    for (;;) {
      const all = (await server.call('GET', '/v1/keys?limit=1000')).body.items as { id: string }[];
      const audit = (await server.call('GET', '/v1/audit/events?limit=1000')).body.items as { eventType?: string; tenantId: string | null }[];
      const seen = all.some((k) => k.id === dekA) && audit.some((e) => JSON.stringify(e).includes('CrossTenantAccessDenied') || e.tenantId === 'tenant-a');
      if (seen || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const keys = await asB('GET', '/v1/keys?limit=1000');
    expect(keys.status).toBe(200);
    const keyItems = keys.body.items as { id: string; tenantId: string }[];
    expect(keyItems.map((k) => k.id)).toContain(kekB);
    expect(keyItems.filter((k) => k.tenantId !== 'tenant-b' || k.id === kekA || k.id === dekA)).toEqual([]);
    const filtered = await asB('GET', '/v1/keys?tenantId=tenant-a&limit=1000');
    expect(filtered.status === 200 ? filtered.body.items : []).toEqual([]);

    const audit = await asB('GET', '/v1/audit/events?limit=1000');
    expect(audit.status).toBe(200);
    const entries = audit.body.items as { tenantId: string | null }[];
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.filter((e) => e.tenantId !== 'tenant-b')).toEqual([]);
    expect(JSON.stringify(entries)).not.toContain(kekA);
    expect(JSON.stringify(entries)).not.toContain(dekA);
    const auditA = await asB('GET', '/v1/audit/events?tenantId=tenant-a&limit=1000');
    expect(auditA.status === 200 ? auditA.body.items : []).toEqual([]);
  });
});
