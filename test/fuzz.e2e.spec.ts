import fc from 'fast-check';
import { generateKeyPairSync } from 'node:crypto';
import { addPrincipal, recipientKeys } from './support/fixtures.js';
import { bootServer, type Answer, type TestServer } from './support/server.js';

/**
 * Fuzzing of every POST route (SPEC §10): random bodies (any JSON value, objects mixing the route's
 * fields with unknown ones, raw strings sent as JSON, no body), random headers (Idempotency-Key,
 * If-Match, Content-Type), random tokens and random, encoded path parameters, some of them naming
 * resources that exist. Whatever comes in: never a 5xx, every 4xx is a problem+json answer with a
 * code, no refused request appends an event, and the server keeps answering /health.
 *
 * `KEYLEDGER_FUZZ_RUNS` is the number of cases per route (default 30, sized so that the whole file
 * runs in about a minute on a slow two-core machine); `npm run fuzz` may set it much higher.
 * `KEYLEDGER_FUZZ_SEED` replays a run (fast-check prints the seed and path of a failure).
 */
const RUNS = Math.max(1, Number.parseInt(process.env.KEYLEDGER_FUZZ_RUNS ?? '', 10) || 30);
const SEED = process.env.KEYLEDGER_FUZZ_SEED ? Number.parseInt(process.env.KEYLEDGER_FUZZ_SEED, 10) : undefined;

/**
 * Events a refused request may legitimately append: a probe of another tenant's key and a denied
 * or failed use of the data plane are recorded by design. Every other type must not move.
 */
const RECORDED_REFUSALS = new Set(['CrossTenantAccessDenied', 'KeyUseDenied', 'KeyUseFailed']);

type Seed = 'kek' | 'dek' | 'recipient' | 'approval' | 'ceremony' | 'principal';
interface Route {
  /** The path, with `{id}` where the path parameter goes. */
  readonly path: string;
  /** The resource a real id of which the path parameter may name. */
  readonly seeds: readonly Seed[];
  /** The route's own body fields, mixed with unknown ones by the body generator. */
  readonly fields: readonly string[];
}

const LIFECYCLE_FIELDS = ['version', 'reason', 'compromisedAt', 'waitingPeriodDays'];
const DATA_PLANE_FIELDS = ['context', 'plaintext', 'ciphertext', 'ciphertextBlob'];
const key = (verb: string, fields: readonly string[] = LIFECYCLE_FIELDS): [string, Route] => [
  `/v1/keys/{id}/${verb}`,
  { path: `/v1/keys/{id}/${verb}`, seeds: ['kek', 'dek'], fields },
];

const GROUPS: Record<string, Record<string, Route>> = {
  'key generation': Object.fromEntries([
    [
      '/v1/keys',
      {
        path: '/v1/keys',
        seeds: [],
        fields: ['tenantId', 'purpose', 'algorithm', 'parentKeyId', 'custodian', 'classifications', 'vendors', 'cryptoperiodDays', 'label', 'source'],
      },
    ],
  ]),
  'key lifecycle': Object.fromEntries(
    ['activate', 'suspend', 'reactivate', 'deactivate', 'rotate', 'revoke', 'schedule-destruction', 'cancel-destruction', 'destroy'].map((verb) => key(verb)),
  ),
  distribution: Object.fromEntries([
    key('distribute', ['recipientId', 'version']),
    ['/v1/recipients', { path: '/v1/recipients', seeds: [], fields: ['name', 'tenantId', 'publicKeyPem'] }],
  ]),
  'data plane': Object.fromEntries(['data-keys', 'encrypt', 'decrypt', 'rewrap'].map((verb) => key(verb, DATA_PLANE_FIELDS))),
  approvals: Object.fromEntries([
    ['/v1/approvals', { path: '/v1/approvals', seeds: [], fields: ['operation', 'keyId', 'version', 'params'] }],
    ...['approve', 'deny', 'cancel'].map((verb): [string, Route] => [
      `/v1/approvals/{id}/${verb}`,
      { path: `/v1/approvals/{id}/${verb}`, seeds: ['approval'], fields: ['reason'] },
    ]),
  ]),
  ceremonies: Object.fromEntries([
    ['/v1/ceremonies', { path: '/v1/ceremonies', seeds: [], fields: ['purpose', 'keyId', 'witnesses'] }],
    ['/v1/ceremonies/{id}/steps', { path: '/v1/ceremonies/{id}/steps', seeds: ['ceremony'], fields: ['description'] }],
    ['/v1/ceremonies/{id}/attestations', { path: '/v1/ceremonies/{id}/attestations', seeds: ['ceremony'], fields: ['witness', 'signature'] }],
    ['/v1/ceremonies/{id}/close', { path: '/v1/ceremonies/{id}/close', seeds: ['ceremony'], fields: [] }],
  ]),
  principals: Object.fromEntries([
    ['/v1/principals', { path: '/v1/principals', seeds: [], fields: ['name', 'roles', 'tenantId'] }],
    ['/v1/principals/{id}/revoke', { path: '/v1/principals/{id}/revoke', seeds: ['principal'], fields: [] }],
    ['/v1/principals/{id}/rotate-token', { path: '/v1/principals/{id}/rotate-token', seeds: ['principal'], fields: [] }],
  ]),
  scheduler: Object.fromEntries([['/v1/scheduler/run', { path: '/v1/scheduler/run', seeds: [], fields: [] }]]),
};

/** What one fuzz case sends. */
interface Case {
  readonly id: string;
  readonly body: { kind: 'json'; value: unknown } | { kind: 'raw'; text: string } | { kind: 'none' };
  readonly headers: Record<string, string>;
  readonly token: string | null;
}

describe('fuzzing every POST route', () => {
  let server: TestServer;
  const ids = {} as Record<Seed, string>;
  const tokens: (string | null)[] = [];
  let pem: string;

  beforeAll(async () => {
    // No background appends: the scheduler would make "nothing appended" racy.
    server = await bootServer({ KEYLEDGER_SCHEDULER_INTERVAL_MS: '0', KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS: '0' });
    const created = async (path: string, body: unknown) => {
      const res = await server.call('POST', path, { body });
      expect(res.status).toBeLessThan(300);
      return res.body;
    };
    ids.kek = (await created('/v1/keys', { tenantId: 'tenant-a', purpose: 'kek', classifications: ['ephi'] })).id;
    await created(`/v1/keys/${ids.kek}/activate`, {});
    ids.dek = (await created('/v1/keys', { tenantId: 'tenant-a', purpose: 'dek', parentKeyId: ids.kek })).id;
    await created(`/v1/keys/${ids.dek}/activate`, {});
    pem = recipientKeys().publicKeyPem;
    ids.recipient = (await created('/v1/recipients', { name: 'vault-a', tenantId: 'tenant-a', publicKeyPem: pem })).id;
    ids.approval = (await created('/v1/approvals', { operation: 'generate', params: { tenantId: 'platform', purpose: 'root' } })).id;
    const witnessPem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    ids.ceremony = (await created('/v1/ceremonies', { purpose: 'fuzz ceremony', witnesses: [{ name: 'Dana', publicKeyPem: witnessPem }] })).id;
    ids.principal = (await created('/v1/principals', { name: 'fuzz-auditor', roles: ['auditor'] })).id;
    const [custodian, service, auditor] = await Promise.all([
      addPrincipal(server.dataDir, 'fuzz-custodian', ['custodian']),
      addPrincipal(server.dataDir, 'fuzz-service', ['service'], 'tenant-a'),
      addPrincipal(server.dataDir, 'fuzz-auditor-cli', ['auditor']),
    ]);
    // The admin (every role but service, no tenant) most of the time: it reaches furthest.
    tokens.push(server.adminToken, server.adminToken, server.adminToken, custodian!, service!, auditor!, 'klt_not_a_token', null);
  });
  afterAll(() => server.close());

  /** Events that a refused request must not have appended. */
  const countedEvents = async () => (await server.events()).filter((e) => !RECORDED_REFUSALS.has(e.type));
  const counted = async () => (await countedEvents()).length;
  /**
   * A success may start work that appends after the answer (a KEK rotation rewraps its DEKs in a
   * background job): wait until the log is still before the next case, so that what the next
   * case sees appended is its own doing.
   */
  const settle = async () => {
    let last = -1;
    for (let tries = 0; tries < 200; tries++) {
      const now = await counted();
      if (now === last) return;
      last = now;
      await new Promise((r) => setTimeout(r, 30));
    }
  };

  // ---- generators -------------------------------------------------------------------------
  /** Printable ASCII and Latin-1: what an HTTP header value may carry (fetch refuses the rest). */
  const headerText = (maxLength = 80) =>
    fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff })).map((c) => String.fromCharCode(c)), maxLength });
  const encode = (text: string) => {
    try {
      return encodeURIComponent(text);
    } catch {
      return encodeURIComponent(text.replace(/[\ud800-\udfff]/g, '?'));
    }
  };
  const pathParam = (seeds: readonly Seed[]) =>
    fc.oneof(
      { arbitrary: seeds.length ? fc.constantFrom(...seeds.map((s) => ids[s])) : fc.constant(ids.kek), weight: 4 },
      { arbitrary: fc.constantFrom(...Object.values(ids)), weight: 1 },
      { arbitrary: fc.string({ maxLength: 40 }).map(encode), weight: 2 },
      { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map(encode), weight: 1 },
      { arbitrary: fc.stringMatching(/^[A-Za-z0-9._:-]{1,140}$/), weight: 2 },
      {
        arbitrary: fc.constantFrom('', '.', '..', '%', '%ZZ', '%2F', '%2E%2E', 'a%00b', '%E0%A4%A', 'k'.repeat(129), 'k'.repeat(4000), `${ids.kek}%20`, ' '),
        weight: 1,
      },
    );
  const base64 = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64'));
  const plausible = () =>
    fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(...Object.values(ids), 'tenant-a', 'tenant-b', 'kek', 'dek', 'root', 'AES-256', 'software', 'ephi', 'compromised', 'superseded'),
      fc.constantFrom('2020-01-01T00:00:00Z', '2999-01-01T00:00:00Z', 'generate', 'rotate', 'activate', 'destroy', 'service', 'auditor', 'operator', pem),
      fc.integer({ min: -2, max: 400 }),
      fc.double(),
      base64,
      fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
      fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
    );
  const body = (fields: readonly string[]): fc.Arbitrary<Case['body']> =>
    fc.oneof(
      // Any JSON value at all.
      fc.jsonValue({ maxDepth: 3 }).map((value) => ({ kind: 'json' as const, value })),
      // The route's fields with plausible values, sometimes with unknown fields beside them.
      fc
        .tuple(
          fields.length ? fc.subarray([...fields]).chain((names) => fc.tuple(...names.map((n) => plausible().map((v) => [n, v] as const)))) : fc.constant([] as (readonly [string, unknown])[]),
          fc.option(fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }), { nil: undefined }),
        )
        .map(([known, unknown]) => ({ kind: 'json' as const, value: { ...Object.fromEntries(known), ...(unknown ?? {}) } })),
      // Not JSON, or broken JSON, sent as JSON.
      fc.oneof(fc.string({ maxLength: 60 }), fc.jsonValue().map((v) => JSON.stringify(v).slice(0, -1)), fc.constantFrom('', '{', '[]', 'null', '"x"', '{"__proto__":{"x":1}}', '{"a":1,"a":2}')).map((text) => ({ kind: 'raw' as const, text })),
      fc.constant({ kind: 'none' as const }),
    );
  const headers = fc
    .record(
      {
        'idempotency-key': fc.oneof(headerText(), fc.uuid(), fc.constantFrom('k'.repeat(300), ' ', 'same-key')),
        'if-match': fc.oneof(headerText(20), fc.nat({ max: 20 }).map((n) => `"${n}"`), fc.constantFrom('*', '"0"', '"-1"', '"1.5"', 'W/"1"')),
        'content-type': fc.oneof(
          fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'application/problem+json', 'multipart/form-data; boundary=x', ''),
          headerText(40),
        ),
        'x-correlation-id': headerText(),
      },
      { requiredKeys: [] },
    )
    .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>);
  const fuzzCase = (route: Route): fc.Arbitrary<Case> =>
    fc.record({ id: pathParam(route.seeds), body: body(route.fields), headers, token: fc.constantFrom(...tokens) });

  const send = (route: Route, c: Case): Promise<Answer> => {
    const path = route.path.replace('{id}', c.id);
    const options = { token: c.token, headers: c.headers };
    if (c.body.kind === 'json') return server.call('POST', path, { ...options, raw: JSON.stringify(c.body.value) });
    if (c.body.kind === 'raw') return server.call('POST', path, { ...options, raw: c.body.text });
    return server.call('POST', path, options);
  };

  /** Whether an answer keeps the rules; the property and the fixed cases below share it. */
  const expectWellBehaved = async (res: Answer, before: number) => {
    const seen = { status: res.status, code: res.body?.code, contentType: res.headers.get('content-type') };
    // The whole answer in the message: which status and code a 5xx came with.
    expect({ ...seen, serverError: res.status >= 500 }).toEqual({ ...seen, serverError: false });
    if (res.status >= 400) {
      expect(seen.contentType).toContain('application/problem+json');
      expect(seen.code).toEqual(expect.stringMatching(/^[A-Z_]+\.[A-Z_]+$/));
    }
    if (res.status < 200 || res.status >= 300) {
      const appended = (await countedEvents()).slice(before).map((e) => e.type);
      expect({ ...seen, appended }).toEqual({ ...seen, appended: [] });
    } else {
      await settle();
    }
    expect((await server.call('GET', '/health', { token: null })).status).toBe(200);
  };

  /**
   * Fixed cases the random ones reach only now and then: a well-formed id that names nothing,
   * with a body that passes validation, on every route with a path parameter — a plain 404.
   */
  const validBodies: Record<string, () => unknown> = {
    revoke: () => ({ reason: 'superseded' }),
    distribute: () => ({ recipientId: ids.recipient }),
    encrypt: () => ({ plaintext: 'AAAA' }),
    decrypt: () => ({ ciphertext: 'AAAA' }),
    rewrap: () => ({ ciphertext: 'AAAA' }),
    steps: () => ({ description: 'a step' }),
    attestations: () => ({ witness: 'Dana', signature: 'AAAA' }),
  };
  const withParameter = Object.values(GROUPS).flatMap((routes) => Object.keys(routes).filter((path) => path.includes('{id}')));
  it.each(withParameter)('POST %s with a well-formed id that names nothing: a problem, no 5xx, nothing appended', async (path) => {
    const verb = path.split('/').at(-1)!;
    const before = await counted();
    const res = await server.call('POST', path.replace('{id}', 'no-such-thing-0000'), { body: validBodies[verb]?.() ?? {} });
    await expectWellBehaved(res, before);
    expect(res.status).toBeGreaterThanOrEqual(400);
  });

  describe.each(Object.entries(GROUPS))('%s', (_group, routes) => {
    it.each(Object.keys(routes))(`POST %s: no 5xx, 4xx are problems, refusals append nothing (${RUNS} runs)`, async (name) => {
      const route = routes[name]!;
      await fc.assert(
        fc.asyncProperty(fuzzCase(route), async (c) => {
          const before = await counted();
          const res = await send(route, c);
          await expectWellBehaved(res, before);
        }),
        { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
      );
    });
  });
});
