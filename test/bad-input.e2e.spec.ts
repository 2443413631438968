import fc from 'fast-check';
import { generateKeyPairSync } from 'node:crypto';
import { bootServer, type TestServer } from './support/server.js';

/**
 * Bad input (SPEC §10): every malformed, oversized, unknown-field, wrong-type or out-of-state
 * request gets a clear 4xx problem answer, nothing is appended, and the server keeps serving.
 */
describe('bad input', () => {
  let server: TestServer;
  let kekId: string;
  let appended: number;

  beforeAll(async () => {
    server = await bootServer();
    const kek = await server.call('POST', '/v1/keys', { body: { tenantId: 'tenant-a', purpose: 'kek' } });
    kekId = kek.body.id;
    await server.call('POST', `/v1/keys/${kekId}/activate`, { body: {} });
  });
  beforeEach(async () => {
    appended = await server.eventCount();
  });
  afterEach(async () => {
    expect(await server.eventCount()).toBe(appended);
    expect((await server.call('GET', '/health', { token: null })).status).toBe(200);
  });
  afterAll(() => server.close());

  const expectProblem = (res: { status: number; body: any; headers: Headers }, status: number, code: string) => {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.type).toBe(`urn:keyledger:problem:${code.toLowerCase()}`);
    expect(res.body.title).toEqual(expect.any(String));
    expect(res.body.detail).toEqual(expect.any(String));
  };

  it('refuses malformed JSON', async () => {
    expectProblem(await server.call('POST', '/v1/keys', { raw: '{"tenantId": "a", purpose' }), 400, 'REQUEST.MALFORMED_JSON');
  });

  it('refuses a body that is not JSON', async () => {
    const res = await server.call('POST', '/v1/keys', { raw: 'tenantId=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expectProblem(res, 415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses an oversized body', async () => {
    const res = await server.call('POST', '/v1/keys', { body: { tenantId: 'a', purpose: 'kek', label: 'x'.repeat(70_000) } });
    expectProblem(res, 413, 'REQUEST.TOO_LARGE');
  });

  it.each([
    ['an unknown field', { tenantId: 'a', purpose: 'kek', colour: 'blue' }],
    ['a wrong type', { tenantId: 'a', purpose: 5 }],
    ['an unknown purpose', { tenantId: 'a', purpose: 'master' }],
    ['a missing tenant', { purpose: 'kek' }],
    ['a tenant id with spaces', { tenantId: 'a b', purpose: 'kek' }],
    ['an unknown classification', { tenantId: 'a', purpose: 'kek', classifications: ['secret-sauce'] }],
    ['a vendor with unknown fields', { tenantId: 'a', purpose: 'kek', vendors: [{ name: 'openai', mode: 'byok', baaStatus: 'signed', x: 1 }] }],
    ['a fractional cryptoperiod', { tenantId: 'a', purpose: 'kek', cryptoperiodDays: 1.5 }],
    ['an array body', [{ tenantId: 'a', purpose: 'kek' }]],
    ['a null body', null],
  ])('refuses %s on generate', async (_, body) => {
    const res = await server.call('POST', '/v1/keys', { raw: JSON.stringify(body) });
    expectProblem(res, 400, 'VALIDATION.INVALID_INPUT');
    expect(res.body.errors.length).toBeGreaterThan(0);
  });

  it('refuses a cryptoperiod beyond the SP 800-57 Table 1 maximum', async () => {
    const res = await server.call('POST', '/v1/keys', { body: { tenantId: 'tenant-a', purpose: 'dek', parentKeyId: kekId, cryptoperiodDays: 731 } });
    expectProblem(res, 422, 'POLICY.CRYPTOPERIOD_EXCEEDS_MAXIMUM');
  });

  it.each(['activate', 'rotate', 'suspend', 'reactivate', 'deactivate', 'cancel-destruction', 'destroy'])('answers 404 for an unknown key id on %s', async (verb) => {
    expectProblem(await server.call('POST', `/v1/keys/no-such-key/${verb}`, { body: {} }), 404, 'KEY.NOT_FOUND');
  });

  it('answers 404 for unknown keys on reads and 400 for an id that cannot be one', async () => {
    expectProblem(await server.call('GET', '/v1/keys/no-such-key'), 404, 'KEY.NOT_FOUND');
    expectProblem(await server.call('GET', '/v1/keys/no-such-key/history'), 404, 'KEY.NOT_FOUND');
    expectProblem(await server.call('GET', `/v1/keys/${encodeURIComponent('bad id!')}`), 400, 'VALIDATION.INVALID_INPUT');
  });

  it.each([
    ['an unknown reason', { reason: 'bored' }, 400, 'VALIDATION.INVALID_INPUT'],
    ['a compromise date that is not an instant', { reason: 'compromised', compromisedAt: 'yesterday' }, 400, 'VALIDATION.INVALID_INPUT'],
    ['a compromise date in the future', { reason: 'compromised', compromisedAt: '2999-01-01T00:00:00Z' }, 400, 'VALIDATION.INVALID_INPUT'],
    ['a compromise date with another reason', { reason: 'superseded', compromisedAt: '2020-01-01T00:00:00Z' }, 400, 'VALIDATION.INVALID_INPUT'],
    ['a version that is not a number', { reason: 'superseded', version: 'one' }, 400, 'VALIDATION.INVALID_INPUT'],
  ])('refuses a revoke with %s', async (_, body, status, code) => {
    expectProblem(await server.call('POST', `/v1/keys/${kekId}/revoke`, { body }), status, code);
  });

  it.each([
    [3, 422, 'POLICY.WAITING_PERIOD_OUT_OF_RANGE'],
    [31, 422, 'POLICY.WAITING_PERIOD_OUT_OF_RANGE'],
    [-1, 400, 'VALIDATION.INVALID_INPUT'],
    [7.5, 400, 'VALIDATION.INVALID_INPUT'],
  ])('refuses a waiting period of %s days', async (days, status, code) => {
    const dek = await server.call('POST', '/v1/keys', { body: { tenantId: 'tenant-a', purpose: 'dek', parentKeyId: kekId } });
    appended = await server.eventCount();
    const res = await server.call('POST', `/v1/keys/${dek.body.id}/schedule-destruction`, { body: { waitingPeriodDays: days } });
    expectProblem(res, status, code);
  });

  it('refuses bad If-Match and Idempotency-Key headers', async () => {
    expectProblem(await server.call('POST', `/v1/keys/${kekId}/suspend`, { body: {}, headers: { 'if-match': 'latest' } }), 400, 'REQUEST.INVALID');
    const longKey = 'k'.repeat(300);
    expectProblem(await server.call('POST', `/v1/keys/${kekId}/suspend`, { body: {}, headers: { 'idempotency-key': longKey } }), 400, 'REQUEST.INVALID');
  });

  it.each([
    ['limit=0'],
    ['limit=5000'],
    ['state=sleeping'],
    ['colour=blue'],
    ['at=not-a-date'],
  ])('refuses the list query %s', async (query) => {
    expectProblem(await server.call('GET', `/v1/keys?${query}`), 400, 'VALIDATION.INVALID_INPUT');
  });

  it('refuses recipients whose key cannot carry RSA-OAEP-256', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    for (const publicKeyPem of [ec, small, `-----BEGIN PUBLIC KEY-----\n${'A'.repeat(120)}\n-----END PUBLIC KEY-----`]) {
      const res = await server.call('POST', '/v1/recipients', { body: { name: 'r', tenantId: 'tenant-a', publicKeyPem } });
      expectProblem(res, 422, 'CUSTODY.INVALID_RECIPIENT_KEY');
    }
  });

  it('answers 404 when distributing to an unknown recipient', async () => {
    expectProblem(await server.call('POST', `/v1/keys/${kekId}/distribute`, { body: { recipientId: 'nobody' } }), 404, 'RECIPIENT.NOT_FOUND');
  });

  it('answers unknown routes with a problem', async () => {
    expectProblem(await server.call('GET', '/v1/nothing-here'), 404, 'ROUTE.NOT_FOUND');
    expectProblem(await server.call('POST', `/v1/keys/${kekId}/explode`, { body: {} }), 404, 'ROUTE.NOT_FOUND');
  });

  it('never answers 5xx and never appends for random bodies on every lifecycle route', async () => {
    const verbs = ['activate', 'rotate', 'suspend', 'reactivate', 'deactivate', 'revoke', 'schedule-destruction', 'cancel-destruction', 'destroy', 'distribute'];
    // Bodies that cannot be valid for any route: each carries a field no route knows.
    const body = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }).map((d) => ({ ...d, unexpected: true }));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...verbs), body, async (verb, payload) => {
        const res = await server.call('POST', `/v1/keys/${kekId}/${verb}`, { body: payload });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });

  it('still serves a valid command after all of it', async () => {
    const res = await server.call('POST', `/v1/keys/${kekId}/suspend`, { body: {} });
    expect(res.status).toBe(200);
    appended += 1;
  });
});
