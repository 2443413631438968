import { readdirSync } from 'node:fs';
import { bootServer, storesUnderTest, type TestServer } from './support/server.js';
import { encodingsOf, recipientKeys } from './support/fixtures.js';

/**
 * A tenant's KEK and a DEK under it, taken through every lifecycle command of SPEC §3 over real
 * HTTP, with the wire names of SPEC §8, on each store a deployment can choose.
 */
describe.each(storesUnderTest())('key lifecycle over HTTP on $name', ({ name, env }) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await bootServer({ ...env, KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS: '0' });
  });
  afterAll(() => server.close());

  const post = (path: string, body: unknown = {}) => server.call('POST', path, { body });
  const key = async (id: string) => (await server.call('GET', `/v1/keys/${id}`)).body;
  const version = (k: any, n: number) => k.versions.find((v: any) => v.version === n);

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
    const dek = await generate({ tenantId, purpose: 'dek', parentKeyId: kekId, classifications: ['ephi'] });
    expect((await post(`/v1/keys/${dek.id}/activate`)).status).toBe(200);
    return dek;
  };

  it('generates a KEK and a DEK under it with the wire shape of SPEC §8', async () => {
    const kek = await generate({ tenantId: 'tenant-a', purpose: 'kek', classifications: ['ephi', 'pii'], label: 'tenant A KEK' });
    expect(kek).toMatchObject({
      tenantId: 'tenant-a',
      purpose: 'kek',
      algorithm: 'AES-256',
      custodian: 'software',
      parentKeyId: null,
      classifications: ['ephi', 'pii'],
      vendors: [],
      currentVersion: 1,
      revision: 0,
    });
    expect(typeof kek.id).toBe('string');
    expect(kek.versions).toEqual([
      expect.objectContaining({ version: 1, state: 'pre-activation', compromised: false, activatedAt: null, protectUntil: null, processUntil: null, destructionScheduledFor: null, destroyedAt: null }),
    ]);
    const activated = (await post(`/v1/keys/${kek.id}/activate`)).body;
    expect(version(activated, 1).state).toBe('active');
    expect(activated.revision).toBe(1);
    const oupDays = (Date.parse(version(activated, 1).protectUntil) - Date.parse(version(activated, 1).activatedAt)) / 86_400_000;
    expect(oupDays).toBe(365);
    const dek = await generate({ tenantId: 'tenant-a', purpose: 'dek', parentKeyId: kek.id });
    expect(dek.parentKeyId).toBe(kek.id);
    expect(version(dek, 1).parentVersion).toBe(1);
  });

  it('refuses a DEK under another tenant\'s KEK', async () => {
    const kek = await activeKek('tenant-a');
    const res = await post('/v1/keys', { tenantId: 'tenant-b', purpose: 'dek', parentKeyId: kek.id });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('KEY.INVALID_PARENT');
  });

  it('distributes a DEK to a registered recipient, wrapped under its RSA key', async () => {
    const kek = await activeKek('tenant-a');
    const dek = await activeDek('tenant-a', kek.id);
    const recipient = recipientKeys();
    const registered = await post('/v1/recipients', { name: 'billing-service', tenantId: 'tenant-a', publicKeyPem: recipient.publicKeyPem });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ name: 'billing-service', tenantId: 'tenant-a' });
    const list = await server.call('GET', '/v1/recipients');
    expect(list.body.items.map((r: any) => r.id)).toContain(registered.body.id);

    const res = await post(`/v1/keys/${dek.id}/distribute`, { recipientId: registered.body.id });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ keyId: dek.id, version: 1, recipientId: registered.body.id, algorithm: 'RSA-OAEP-256' });
    expect(recipient.unwrap(res.body.wrappedKey)).toHaveLength(32);
    const history = (await server.call('GET', `/v1/keys/${dek.id}/history`)).body.events;
    expect(history.map((e: any) => e.type)).toEqual(['KeyGenerated', 'KeyVersionActivated', 'KeyUsed']);
    expect(history[2].data).toMatchObject({ operation: 'distribute', recipientId: registered.body.id });
  });

  it('rotates: a new active version protects, the old one is deactivated', async () => {
    const kek = await activeKek('tenant-a');
    const dek = await activeDek('tenant-a', kek.id);
    const rotated = (await post(`/v1/keys/${dek.id}/rotate`)).body;
    expect(rotated.currentVersion).toBe(2);
    expect(version(rotated, 1).state).toBe('deactivated');
    expect(version(rotated, 2).state).toBe('active');
    expect(rotated.lastRotatedAt).not.toBeNull();
  });

  it('suspends, reactivates and deactivates a version', async () => {
    const kek = await activeKek('tenant-a');
    const dek = await activeDek('tenant-a', kek.id);
    expect(version((await post(`/v1/keys/${dek.id}/suspend`, { reason: 'investigation' })).body, 1).state).toBe('suspended');
    expect(version((await post(`/v1/keys/${dek.id}/reactivate`)).body, 1).state).toBe('active');
    expect(version((await post(`/v1/keys/${dek.id}/deactivate`)).body, 1).state).toBe('deactivated');
  });

  it.each([
    ['superseded', 'deactivated', false],
    ['cessation-of-operation', 'deactivated', false],
    ['privilege-withdrawn', 'deactivated', false],
    ['compromised', 'compromised', true],
  ])('revokes with reason %s → %s', async (reason, state, compromised) => {
    const kek = await activeKek('tenant-a');
    const dek = await activeDek('tenant-a', kek.id);
    const compromisedAt = new Date(Date.now() - 3_600_000).toISOString();
    const res = await post(`/v1/keys/${dek.id}/revoke`, reason === 'compromised' ? { reason, compromisedAt } : { reason });
    expect(res.status).toBe(200);
    expect(version(res.body, 1)).toMatchObject({ state, compromised });
  });

  it('schedules, cancels, reschedules and destroys, with the custodian evidence in the history', async () => {
    const kek = await activeKek('tenant-a');
    const dek = await activeDek('tenant-a', kek.id);
    await post(`/v1/keys/${dek.id}/rotate`);
    const scheduled = (await post(`/v1/keys/${dek.id}/schedule-destruction`, { version: 1, waitingPeriodDays: 0 })).body;
    expect(version(scheduled, 1).destructionScheduledFor).not.toBeNull();
    const cancelled = (await post(`/v1/keys/${dek.id}/cancel-destruction`, { version: 1 })).body;
    expect(version(cancelled, 1).destructionScheduledFor).toBeNull();
    await post(`/v1/keys/${dek.id}/schedule-destruction`, { version: 1, waitingPeriodDays: 0 });
    const destroyed = await post(`/v1/keys/${dek.id}/destroy`, { version: 1 });
    expect(destroyed.status).toBe(200);
    expect(version(destroyed.body, 1).state).toBe('destroyed');
    expect(version(destroyed.body, 1).destroyedAt).not.toBeNull();
    expect(version(destroyed.body, 2).state).toBe('active');
    const history = (await server.call('GET', `/v1/keys/${dek.id}/history`)).body.events;
    const event = history.find((e: any) => e.type === 'KeyVersionDestroyed');
    expect(event.data.evidence).toMatchObject({ custodian: 'software', verifiedAbsent: true });
    expect(history.map((e: any) => e.position)).toEqual([...history.map((e: any) => e.position)].sort((a: number, b: number) => a - b));
    const scheduledEvent = history.find((e: any) => e.type === 'KeyDestructionScheduled');
    expect(scheduledEvent.data.minimumWaitingPeriodDays).toBe(0);
  });

  it('refuses to destroy before the waiting period is over', async () => {
    const kek = await activeKek('tenant-a');
    const dek = await activeDek('tenant-a', kek.id);
    await post(`/v1/keys/${dek.id}/deactivate`);
    await post(`/v1/keys/${dek.id}/schedule-destruction`, { waitingPeriodDays: 7 });
    const res = await post(`/v1/keys/${dek.id}/destroy`);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('KEY.DESTRUCTION_NOT_DUE');
  });

  it.each([
    ['activate an active version', 'activate', {}],
    ['reactivate an active version', 'reactivate', {}],
    ['destroy an active version', 'destroy', {}],
    ['schedule destruction of an active version', 'schedule-destruction', { waitingPeriodDays: 7 }],
    ['cancel a destruction never scheduled', 'cancel-destruction', {}],
    ['act on a version that does not exist', 'suspend', { version: 9 }],
  ])('refuses to %s with a problem answer and appends nothing', async (_, verb, body) => {
    const kek = await activeKek('tenant-a');
    const before = (await server.call('GET', `/v1/keys/${kek.id}/history`)).body.events.length;
    const total = await server.eventCount();
    const res = await post(`/v1/keys/${kek.id}/${verb}`, body);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: res.status, type: expect.stringMatching(/^urn:keyledger:problem:/), code: expect.any(String), detail: expect.any(String) });
    expect((await server.call('GET', `/v1/keys/${kek.id}/history`)).body.events.length).toBe(before);
    expect(await server.eventCount()).toBe(total);
  });

  it('lists keys with paging and a state filter, and shows a key as of an earlier instant', async () => {
    const kek = await activeKek('tenant-paging');
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 15));
    const dek1 = await generate({ tenantId: 'tenant-paging', purpose: 'dek', parentKeyId: kek.id });
    await post(`/v1/keys/${kek.id}/suspend`);
    const suspendedParent = await post('/v1/keys', { tenantId: 'tenant-paging', purpose: 'dek', parentKeyId: kek.id });
    expect(suspendedParent.body.code).toBe('KEY.INVALID_PARENT');
    await generate({ tenantId: 'tenant-paging', purpose: 'dek', parentKeyId: (await activeKek('tenant-paging')).id });
    const page1 = (await server.call('GET', '/v1/keys?tenantId=tenant-paging&limit=2')).body;
    expect(page1.items).toHaveLength(2);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = (await server.call('GET', `/v1/keys?tenantId=tenant-paging&limit=2&cursor=${page1.nextCursor}`)).body;
    expect(page2.items).toHaveLength(2);
    expect(page2.nextCursor).toBeNull();
    const ids = [...page1.items, ...page2.items].map((k: any) => k.id);
    expect(new Set(ids).size).toBe(4);
    const suspended = (await server.call('GET', '/v1/keys?tenantId=tenant-paging&state=suspended')).body.items;
    expect(suspended.map((k: any) => k.id)).toEqual([kek.id]);
    const pre = (await server.call('GET', '/v1/keys?tenantId=tenant-paging&state=pre-activation')).body.items;
    expect(pre.map((k: any) => k.id)).toContain(dek1.id);
    const then = (await server.call('GET', `/v1/keys/${kek.id}?at=${encodeURIComponent(before)}`)).body;
    expect(version(then, 1).state).toBe('active');
    expect(version(await key(kek.id), 1).state).toBe('suspended');
    const thenList = (await server.call('GET', `/v1/keys?tenantId=tenant-paging&at=${encodeURIComponent(before)}`)).body.items;
    expect(thenList.map((k: any) => k.id)).toEqual([kek.id]);
  });

  it('honours Idempotency-Key: same body → same answer, one append; other body → 422', async () => {
    const body = { tenantId: 'tenant-idem', purpose: 'kek' };
    const headers = { 'idempotency-key': 'generate-kek-1' };
    const first = await server.call('POST', '/v1/keys', { body, headers });
    const count = await server.eventCount();
    const again = await server.call('POST', '/v1/keys', { body: { purpose: 'kek', tenantId: 'tenant-idem' }, headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(await server.eventCount()).toBe(count);
    const reused = await server.call('POST', '/v1/keys', { body: { ...body, label: 'other' }, headers });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY.KEY_REUSED');
    const list = (await server.call('GET', '/v1/keys?tenantId=tenant-idem')).body.items;
    expect(list).toHaveLength(1);
  });

  it('answers 412 when If-Match names another revision, and nothing is appended', async () => {
    const kek = await generate({ tenantId: 'tenant-a', purpose: 'kek' });
    const stale = await server.call('POST', `/v1/keys/${kek.id}/activate`, { body: {}, headers: { 'if-match': '"5"' } });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('REVISION.PRECONDITION_FAILED');
    const fresh = await server.call('POST', `/v1/keys/${kek.id}/activate`, { body: {}, headers: { 'if-match': '"0"' } });
    expect(fresh.status).toBe(200);
    expect(fresh.body.revision).toBe(1);
  });

  describe('authentication and authorization', () => {
    let kekA: any;
    let serviceB: string;
    let auditor: string;
    beforeAll(async () => {
      kekA = await activeKek('tenant-a');
      serviceB = await server.addPrincipal('svc-b', ['service'], 'tenant-b');
      auditor = await server.addPrincipal('auditor', ['auditor']);
    });

    it('answers 401 without a token or with an unknown one', async () => {
      for (const token of [null, 'klt_not-a-real-token-xxxxxxxxxxxxxxxx']) {
        const res = await server.call('GET', '/v1/keys', { token });
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('AUTH.UNAUTHENTICATED');
      }
    });

    it('answers 403 for a role that may not act, and appends nothing', async () => {
      const total = await server.eventCount();
      const res = await server.call('POST', '/v1/keys', { token: auditor, body: { tenantId: 'tenant-a', purpose: 'kek' } });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('AUTH.FORBIDDEN');
      expect(await server.eventCount()).toBe(total);
      expect((await server.call('GET', `/v1/keys/${kekA.id}`, { token: auditor })).status).toBe(200);
    });

    it("answers 404 for another tenant's key and records the attempt", async () => {
      const denials = await server.eventCount('CrossTenantAccessDenied');
      const res = await server.call('GET', `/v1/keys/${kekA.id}`, { token: serviceB });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('KEY.NOT_FOUND');
      const unknown = await server.call('GET', '/v1/keys/no-such-key', { token: serviceB });
      expect(unknown.body.detail).toBe(res.body.detail.replace(kekA.id, 'no-such-key'));
      expect(await server.eventCount('CrossTenantAccessDenied')).toBe(denials + 1);
      const listed = (await server.call('GET', '/v1/keys', { token: serviceB })).body.items;
      expect(listed.every((k: any) => k.tenantId === 'tenant-b')).toBe(true);
    });

    it('stops accepting a revoked token', async () => {
      const token = await server.addPrincipal('short-lived', ['auditor']);
      expect((await server.call('GET', '/v1/keys', { token })).status).toBe(200);
      const listed = JSON.parse((await server.cli(['principals', 'list'])).stdout);
      const id = listed.find((p: any) => p.name === 'short-lived').id;
      await server.cli(['principals', 'revoke', id]);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await server.call('GET', '/v1/keys', { token })).status).toBe(401);
    });
  });

  it('keeps key material out of everything stored (but the custodian\'s sealed form) and out of the logs', async () => {
    const kek = await activeKek('tenant-secret');
    const dek = await activeDek('tenant-secret', kek.id);
    const recipient = recipientKeys();
    const registered = await post('/v1/recipients', { name: 'scan', tenantId: 'tenant-secret', publicKeyPem: recipient.publicKeyPem });
    const secret = recipient.unwrap((await post(`/v1/keys/${dek.id}/distribute`, { recipientId: registered.body.id })).body.wrappedKey);
    await post(`/v1/keys/${dek.id}/rotate`);
    // Every read a user or a scraper can make: metrics, read models, history, findings, audit view.
    const answers = await Promise.all(
      ['/metrics', `/v1/keys/${dek.id}/history`, `/v1/keys?tenantId=tenant-secret`, '/v1/compliance', '/v1/audit/events?format=jsonl&limit=1000', `/v1/keys/${dek.id}/lineage`].map(
        async (path) => {
          const { body } = await server.call('GET', path);
          return { path, body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) };
        },
      ),
    );
    expect(answers.find((a) => a.path === '/metrics')!.body.toString()).toContain('keyledger_http_requests_total');
    const logs = Buffer.from(server.logs.join('\n'));
    const stored = await server.storedContents();
    expect(stored.some(({ bytes }) => bytes.includes(Buffer.from(dek.id)))).toBe(true); // the scan does see the stores
    for (const encoded of encodingsOf(secret)) {
      for (const { where, bytes } of stored) {
        expect({ where, found: bytes.includes(encoded) }).toEqual({ where, found: false });
      }
      expect(logs.includes(encoded)).toBe(false);
      for (const { path, body } of answers) expect({ path, found: body.includes(encoded) }).toEqual({ path, found: false });
    }
    expect(server.logs.join('\n')).not.toContain(server.adminToken);
  });

  it('keeps its state in the chosen store: on PostgreSQL, no log, material or idempotency file on local disk', async () => {
    await post('/v1/keys', { tenantId: 'tenant-state', purpose: 'kek' });
    const files = readdirSync(server.dataDir);
    const stateFiles = files.filter((file) => /^(events|key-material|idempotency)\.db$/.test(file)).sort();
    expect(files).toContain('root.key');
    expect(stateFiles).toEqual(name === 'postgres' ? [] : ['events.db', 'key-material.db']);
  });

  it('serves OpenAPI, health and metrics', async () => {
    const docs = await server.call('GET', '/docs-json', { token: null });
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/v1/keys', '/v1/keys/{id}/rotate', '/v1/recipients']));
    const health = await server.call('GET', '/health', { token: null });
    expect(health.body).toMatchObject({ status: 'ok', custodian: { kind: 'software', fipsValidated: false } });
    expect(health.body.custodian.label).toMatch(/not FIPS/i);
    await post(`/v1/keys/${(await activeKek('tenant-metrics')).id}/rotate`);
    const metrics = await server.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('keyledger_http_requests_total');
    expect(metrics.body).toMatch(/keyledger_events_appended_total\{type="KeyGenerated"\} \d+/);
    expect(metrics.body).toMatch(/keyledger_commands_total\{command="rotate",outcome="success"\} [1-9]/);
    expect(metrics.body).toMatch(/keyledger_http_request_duration_seconds_bucket\{le="[0-9.]+",method="POST",route="\/v1\/keys\/:id\/rotate"\}/);
  });
});
