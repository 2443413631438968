import { bootServer, type TestServer } from './support/server.js';

/** SPEC §10: concurrent commands on one key have exactly one winner per revision; retries append once. */
describe('concurrency', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await bootServer();
  });
  afterAll(() => server.close());

  const activeKek = async (tenantId: string): Promise<string> => {
    const kek = await server.call('POST', '/v1/keys', { body: { tenantId, purpose: 'kek' } });
    await server.call('POST', `/v1/keys/${kek.body.id}/activate`, { body: {} });
    return kek.body.id;
  };

  it('N clients rotating one key at once: one new version per success, the rest 409, no lost or duplicated events', async () => {
    const keyId = await activeKek('tenant-race');
    const answers = await Promise.all(
      Array.from({ length: 16 }, () => server.call('POST', `/v1/keys/${keyId}/rotate`, { body: {} })),
    );
    const wins = answers.filter((a) => a.status === 200);
    const conflicts = answers.filter((a) => a.status === 409);
    expect(wins.length + conflicts.length).toBe(16);
    expect(wins.length).toBeGreaterThanOrEqual(1);
    for (const c of conflicts) expect(c.body.code).toBe('CONCURRENCY.CONFLICT');
    const key = (await server.call('GET', `/v1/keys/${keyId}`)).body;
    expect(key.versions).toHaveLength(1 + wins.length);
    expect(new Set(wins.map((w) => w.body.currentVersion)).size).toBe(wins.length);
    const rotations = (await server.events('KeyRotated')).filter((e) => (e.data as { keyId: string }).keyId === keyId);
    expect(rotations).toHaveLength(wins.length);
    const revisions = (await server.call('GET', `/v1/keys/${keyId}/history`)).body.events.map((e: any) => e.revision);
    expect(revisions).toEqual(revisions.map((_: number, i: number) => i));
    expect(key.versions.filter((v: any) => v.state === 'active')).toHaveLength(1);
  });

  it('concurrent retries with one Idempotency-Key append once and all get the first answer', async () => {
    const keyId = await activeKek('tenant-retry');
    const before = await server.eventCount();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        server.call('POST', `/v1/keys/${keyId}/rotate`, { body: {}, headers: { 'idempotency-key': `rotate-${keyId}` } }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(await server.eventCount()).toBe(before + 1);
  });

  it('uses of one key by many clients never conflict with each other', async () => {
    const keyId = await activeKek('tenant-use');
    const { recipientKeys } = await import('./support/fixtures.js');
    const recipient = await server.call('POST', '/v1/recipients', {
      body: { name: 'svc', tenantId: 'tenant-use', publicKeyPem: recipientKeys().publicKeyPem },
    });
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => server.call('POST', `/v1/keys/${keyId}/distribute`, { body: { recipientId: recipient.body.id } })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
    expect((await server.events('KeyUsed')).filter((e) => (e.data as { keyId: string }).keyId === keyId)).toHaveLength(12);
  });
});
