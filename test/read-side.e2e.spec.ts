import { randomUUID } from 'node:crypto';
import { bootServer, storesUnderTest, type TestServer } from './support/server.js';

/**
 * The read side over real HTTP, on each store: the inventory (filters, sorting, cursor paging,
 * `?at=`), read-your-writes, tenant scoping, the 164.312(b) audit view with its exports, the
 * compliance report, lineage, and the projections' status across a restart.
 */
describe.each(storesUnderTest())('read side over HTTP on $name', ({ env }) => {
  let server: TestServer;
  const tenant = `rs-${randomUUID().slice(0, 8)}`;
  const other = `${tenant}-other`;
  let estate: { kekA: any; kekB: any; dekActive: any; dekCompromised: any; dekBare: any; otherKek: any; beforeSuspend: string };
  let serviceToken: string;

  const post = async (path: string, body: unknown = {}, token?: string) => {
    const res = await server.call('POST', path, { body, ...(token ? { token } : {}) });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const get = (path: string, token?: string) => server.call('GET', path, token ? { token } : {});
  const generate = (body: Record<string, unknown>) => post('/v1/keys', body);
  const ids = (items: { id: string }[]) => items.map((k) => k.id);

  beforeAll(async () => {
    server = await bootServer({ ...env, KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS: '0' });
    const kekA = await generate({ tenantId: tenant, purpose: 'kek', classifications: ['ephi'], vendors: [{ name: 'openai', mode: 'cmk', baaStatus: 'signed' }] });
    await post(`/v1/keys/${kekA.id}/activate`);
    const kekB = await generate({ tenantId: tenant, purpose: 'kek', classifications: ['pii'] });
    await post(`/v1/keys/${kekB.id}/activate`);
    const dekActive = await generate({ tenantId: tenant, purpose: 'dek', parentKeyId: kekA.id, classifications: ['ephi'] });
    await post(`/v1/keys/${dekActive.id}/activate`);
    const dekCompromised = await generate({ tenantId: tenant, purpose: 'dek', parentKeyId: kekA.id, classifications: ['ephi'] });
    await post(`/v1/keys/${dekCompromised.id}/activate`);
    await post(`/v1/keys/${dekCompromised.id}/encrypt`, { plaintext: Buffer.from('before the report').toString('base64') });
    await post(`/v1/keys/${dekCompromised.id}/revoke`, { reason: 'compromised', compromisedAt: new Date(Date.now() - 60_000).toISOString() });
    const dekBare = await generate({ tenantId: tenant, purpose: 'dek', parentKeyId: kekA.id });
    const otherKek = await generate({ tenantId: other, purpose: 'kek', classifications: ['internal'] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const beforeSuspend = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await post(`/v1/keys/${kekB.id}/suspend`, { reason: 'investigation' });
    estate = { kekA, kekB, dekActive, dekCompromised, dekBare, otherKek, beforeSuspend };
    serviceToken = await server.addPrincipal(`svc-${tenant}`, ['service'], tenant);
    await post(`/v1/keys/${dekActive.id}/encrypt`, { plaintext: Buffer.from('hello').toString('base64') }, serviceToken);
    await server.call('POST', `/v1/keys/${dekBare.id}/encrypt`, { body: { plaintext: 'aGk=' }, token: serviceToken }); // pre-activation: denied
  });
  afterAll(() => server.close());

  describe('inventory', () => {
    const list = async (query: string, token?: string) => {
      const res = await get(`/v1/keys?${query}`, token);
      expect(res.status).toBe(200);
      return res.body;
    };

    it('filters by tenant, purpose, state, classification, vendor, custodian, rotation due and compromise', async () => {
      const { kekA, kekB, dekActive, dekCompromised, dekBare } = estate;
      const sorted = async (query: string) => ids((await list(`tenantId=${tenant}&${query}`)).items).sort();
      expect(await sorted('purpose=dek')).toEqual([dekActive.id, dekCompromised.id, dekBare.id].sort());
      expect(await sorted('state=active')).toEqual([kekA.id, dekActive.id].sort());
      expect(await sorted('state=suspended')).toEqual([kekB.id]);
      expect(await sorted('classification=pii')).toEqual([kekB.id]);
      expect(await sorted('vendor=openai')).toEqual([kekA.id]);
      expect(await sorted('custodian=software')).toHaveLength(5);
      expect(await sorted('custodian=pkcs11')).toEqual([]);
      expect(await sorted(`rotationDueBefore=${encodeURIComponent(new Date(Date.now() + 100 * 86_400_000).toISOString())}`)).toEqual([dekActive.id]);
      expect(await sorted('compromised=true')).toEqual([dekCompromised.id]);
      expect(await sorted('compromised=false&purpose=dek')).toEqual([dekActive.id, dekBare.id].sort());
    });

    it('answers items in the key wire shape plus state, compromised and rotationDueAt', async () => {
      const [item] = (await list(`tenantId=${tenant}&compromised=true`)).items;
      const key = (await get(`/v1/keys/${estate.dekCompromised.id}`)).body;
      expect(item).toEqual({ ...key, state: 'compromised', compromised: true, rotationDueAt: null });
      const [active] = (await list(`tenantId=${tenant}&purpose=dek&state=active`)).items;
      expect(active.rotationDueAt).toBe(active.versions[0].protectUntil);
    });

    it('sorts both ways and pages with cursors through exactly the whole list', async () => {
      const whole = ids((await list(`tenantId=${tenant}&sort=createdAt`)).items);
      expect(ids((await list(`tenantId=${tenant}&sort=-createdAt`)).items)).toEqual([...whole].reverse());
      const paged: string[] = [];
      for (let cursor: string | null = null, pages = 0; pages === 0 || cursor !== null; pages += 1) {
        const page: { items: { id: string }[]; nextCursor: string | null } = await list(`tenantId=${tenant}&sort=createdAt&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.items.length).toBeLessThanOrEqual(2);
        paged.push(...ids(page.items));
        cursor = page.nextCursor;
      }
      expect(paged).toEqual(whole);
      const byDue = await list(`tenantId=${tenant}&sort=rotationDueAt&limit=1`);
      expect((await get(`/v1/keys?tenantId=${tenant}&sort=-rotationDueAt&cursor=${byDue.nextCursor}`)).body.code).toBe('VALIDATION.INVALID_INPUT');
      expect((await get(`/v1/keys?cursor=not-a-cursor`)).status).toBe(400);
      expect((await get(`/v1/keys?sort=colour`)).status).toBe(400);
      expect((await get(`/v1/keys?compromised=perhaps`)).status).toBe(400);
    });

    it('answers ?at= with the inventory as it was then, filters included', async () => {
      const { kekB, dekBare } = estate;
      const then = await list(`tenantId=${tenant}&at=${encodeURIComponent(estate.beforeSuspend)}`);
      expect(then.items.find((k: any) => k.id === kekB.id).state).toBe('active');
      expect(ids((await list(`tenantId=${tenant}&state=active&at=${encodeURIComponent(estate.beforeSuspend)}`)).items)).toContain(kekB.id);
      expect(ids((await list(`tenantId=${tenant}&state=active`)).items)).not.toContain(kekB.id);
      const beforeAll = new Date(Date.parse(estate.kekA.createdAt) - 1).toISOString();
      expect((await list(`tenantId=${tenant}&at=${encodeURIComponent(beforeAll)}`)).items).toEqual([]);
      expect(ids(then.items)).toContain(dekBare.id);
    });

    it('shows every acknowledged command in the very next read (read-your-writes)', async () => {
      const tenantId = `${tenant}-ryw`;
      const kek = await generate({ tenantId, purpose: 'kek', classifications: ['ephi'] });
      expect(ids((await list(`tenantId=${tenantId}`)).items)).toEqual([kek.id]);
      await post(`/v1/keys/${kek.id}/activate`);
      expect((await list(`tenantId=${tenantId}&state=active`)).items.map((k: any) => k.id)).toEqual([kek.id]);
      for (let i = 1; i <= 8; i += 1) {
        const dek = await generate({ tenantId, purpose: 'dek', parentKeyId: kek.id, classifications: ['ephi'] });
        expect(ids((await list(`tenantId=${tenantId}&purpose=dek`)).items)).toContain(dek.id);
        await post(`/v1/keys/${kek.id}/rotate`);
        expect((await list(`tenantId=${tenantId}&purpose=kek`)).items[0].currentVersion).toBe(i + 1);
        // (the rotation also starts the job that rewraps the DEKs: its entries follow on their own)
        const [last] = (await get(`/v1/audit/events?keyId=${kek.id}&operation=rotate&order=desc&limit=1`)).body.items;
        expect(last.version).toBe(i + 1);
      }
    });
  });

  describe('tenant scoping of a service principal', () => {
    it('lists only its own tenant, and nothing when it names another', async () => {
      const mine = (await get('/v1/keys?limit=1000', serviceToken)).body.items;
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.every((k: any) => k.tenantId === tenant)).toBe(true);
      expect((await get(`/v1/keys?tenantId=${other}`, serviceToken)).body).toEqual({ items: [], nextCursor: null });
      const audit = (await get('/v1/audit/events?limit=1000', serviceToken)).body.items;
      expect(audit.length).toBeGreaterThan(0);
      expect(audit.every((e: any) => e.tenantId === tenant)).toBe(true);
      const compliance = (await get('/v1/compliance', serviceToken)).body;
      expect(compliance.findings.length).toBeGreaterThan(0);
      expect(compliance.findings.every((f: any) => f.tenantId === tenant)).toBe(true);
      expect((await get(`/v1/compliance?tenantId=${other}`, serviceToken)).body.findings).toEqual([]);
    });

    it("answers 404 for another tenant's lineage and records the attempt", async () => {
      const before = await server.eventCount('CrossTenantAccessDenied');
      const res = await get(`/v1/keys/${estate.otherKek.id}/lineage`, serviceToken);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('KEY.NOT_FOUND');
      expect(await server.eventCount('CrossTenantAccessDenied')).toBe(before + 1);
      const denial = (await get(`/v1/audit/events?keyId=${estate.otherKek.id}&outcome=denied`)).body.items.at(-1);
      expect(denial).toMatchObject({ operation: 'lineage', outcome: 'denied', tenantId: other });
    });
  });

  describe('164.312(b) audit view', () => {
    it('tells who did what to which key, when, with what outcome, uses and denials included', async () => {
      const { dekActive, dekBare } = estate;
      const entries = (await get(`/v1/audit/events?keyId=${dekActive.id}`)).body.items;
      expect(entries.map((e: any) => [e.operation, e.outcome, e.version])).toEqual([
        ['generate', 'success', 1],
        ['activate', 'success', 1],
        ['encrypt', 'success', 1],
      ]);
      expect(entries[2]).toEqual({
        position: expect.any(Number),
        eventId: expect.any(String),
        recordedAt: expect.any(String),
        actor: expect.any(String),
        tenantId: tenant,
        keyId: dekActive.id,
        version: 1,
        operation: 'encrypt',
        outcome: 'success',
        correlationId: expect.any(String),
        eventType: 'KeyUsed',
        detail: expect.any(Object),
      });
      const denied = (await get(`/v1/audit/events?keyId=${dekBare.id}&outcome=denied`)).body.items;
      expect(denied.map((e: any) => [e.operation, e.actor])).toEqual([['encrypt', entries[2].actor]]);
      const byPrincipal = (await get(`/v1/audit/events?principal=${entries[2].actor}&operation=encrypt`)).body.items;
      expect(byPrincipal.map((e: any) => [e.keyId, e.outcome])).toEqual([
        [dekActive.id, 'success'],
        [dekBare.id, 'denied'],
      ]);
      expect((await get(`/v1/audit/events?tenantId=${tenant}&operation=revoke`)).body.items.map((e: any) => e.keyId)).toEqual([estate.dekCompromised.id]);
    });

    it('pages with cursors in both orders, and windows by time', async () => {
      const all = (await get(`/v1/audit/events?tenantId=${tenant}&limit=1000`)).body.items;
      const paged: number[] = [];
      for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
        const page: any = (await get(`/v1/audit/events?tenantId=${tenant}&limit=4${cursor ? `&cursor=${cursor}` : ''}`)).body;
        paged.push(...page.items.map((e: any) => e.position));
        cursor = page.nextCursor;
      }
      expect(paged).toEqual(all.map((e: any) => e.position));
      const desc = (await get(`/v1/audit/events?tenantId=${tenant}&order=desc&limit=1000`)).body.items;
      expect(desc.map((e: any) => e.position)).toEqual([...paged].reverse());
      const middle = all[Math.floor(all.length / 2)];
      const window = (await get(`/v1/audit/events?tenantId=${tenant}&from=${encodeURIComponent(middle.recordedAt)}&limit=1000`)).body.items;
      expect(window.every((e: any) => e.recordedAt >= middle.recordedAt)).toBe(true);
      expect(window.length).toBeLessThan(all.length);
      const until = (await get(`/v1/audit/events?tenantId=${tenant}&to=${encodeURIComponent(middle.recordedAt)}&limit=1000`)).body.items;
      expect(until.length + window.length).toBe(all.length);
    });

    it('exports CSV and JSON Lines, chosen by ?format= or by Accept, with the same entries', async () => {
      const query = `tenantId=${tenant}`;
      const json = (await get(`/v1/audit/events?${query}&limit=1000`)).body.items;
      const csv = await server.call('GET', `/v1/audit/events?${query}&format=csv`);
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toContain('text/csv');
      expect(csv.headers.get('content-disposition')).toContain('audit-events.csv');
      const lines = (csv.body as string).trimEnd().split('\r\n');
      expect(lines[0]).toBe('position,recordedAt,actor,tenantId,keyId,version,operation,outcome,correlationId,eventType,eventId,detail');
      expect(lines.slice(1).map((line) => Number(line.split(',')[0]))).toEqual(json.map((e: any) => e.position));
      const jsonl = await server.call('GET', `/v1/audit/events?${query}`, { headers: { accept: 'application/x-ndjson' } });
      expect(jsonl.headers.get('content-type')).toContain('application/x-ndjson');
      expect((jsonl.body as string).trimEnd().split('\n').map((line) => JSON.parse(line))).toEqual(json);
      const viaAccept = await server.call('GET', `/v1/audit/events?${query}&limit=2`, { headers: { accept: 'text/csv' } });
      expect((viaAccept.body as string).trimEnd().split('\r\n')).toHaveLength(3);
      expect((await get(`/v1/audit/events?format=xml`)).status).toBe(400);
    });
  });

  describe('compliance', () => {
    it('reports findings with their rule, references and evidence events, and a summary per tenant', async () => {
      const report = (await get(`/v1/compliance?tenantId=${tenant}`)).body;
      const bare = report.findings.find((f: any) => f.rule === 'classification-missing');
      expect(bare).toMatchObject({ keyId: estate.dekBare.id, tenantId: tenant, references: expect.arrayContaining(['45 CFR 164.308(a)(1)(ii)(B)']) });
      const history = (await get(`/v1/keys/${estate.dekBare.id}/history`)).body.events;
      expect(bare.evidence.map((e: any) => e.position)).toEqual([history[0].position]);
      const exposed = report.findings.find((f: any) => f.rule === 'data-protected-after-compromise');
      expect(exposed).toMatchObject({ keyId: estate.dekCompromised.id, version: 1 });
      expect(report.summary.tenants).toEqual([expect.objectContaining({ tenantId: tenant, findings: report.findings.length })]);
      expect(report.rules.map((r: any) => r.rule)).toEqual(expect.arrayContaining(['rotation-overdue', 'no-annual-root-ceremony', 'tenant-without-own-kek']));
      const one = (await get(`/v1/compliance?tenantId=${tenant}&rule=classification-missing`)).body;
      expect(one.findings.map((f: any) => f.rule)).toEqual(['classification-missing']);
      expect((await get('/v1/compliance?rule=made-up')).status).toBe(400);
    });
  });

  describe('lineage', () => {
    it('gives tenant → DEK → KEK with data classes, and what depends on each KEK version', async () => {
      const { kekA, dekActive, dekCompromised, dekBare } = estate;
      const dek = (await get(`/v1/keys/${dekActive.id}/lineage`)).body;
      expect(dek.chain.map((n: any) => [n.level, n.id ?? n.tenantId])).toEqual([
        ['tenant', tenant],
        ['dek', dekActive.id],
        ['kek', kekA.id],
      ]);
      const kek = (await get(`/v1/keys/${kekA.id}/lineage`)).body;
      expect(kek.descendants.items.map((n: any) => n.id).sort()).toEqual([dekActive.id, dekCompromised.id, dekBare.id].sort());
      expect(kek.versions).toEqual([
        expect.objectContaining({ version: 1, protecting: true, dependents: { keys: 3, keyVersions: 3, ciphertexts: 0 } }),
      ]);
      expect(kek.dataClasses).toEqual(['ephi']);
      expect((await get(`/v1/keys/no-such-key/lineage`)).status).toBe(404);
    });
  });

  it('documents the read routes in OpenAPI', async () => {
    const docs = await server.call('GET', '/docs-json', { token: null });
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining(['/v1/keys', '/v1/audit/events', '/v1/compliance', '/v1/keys/{id}/lineage', '/v1/projections']),
    );
  });

  describe('projections', () => {
    it('report no lag, and resume from their checkpoints after a restart', async () => {
      const status = (await get('/v1/projections')).body.items;
      expect(status.map((s: any) => [s.projection, s.lag, s.runner])).toEqual([
        ['inventory', 0, 'running'],
        ['audit', 0, 'running'],
        ['compliance', 0, 'running'],
      ]);
      const listed = (await get(`/v1/keys?tenantId=${tenant}`)).body;
      await server.restart();
      const after = (await get('/v1/projections')).body.items;
      // Restarted from their checkpoints: never behind where they were before the restart.
      after.forEach((s: any, i: number) => expect(s.position).toBeGreaterThanOrEqual(status[i].position));
      expect((await get(`/v1/keys?tenantId=${tenant}`)).body).toEqual(listed);
      expect((await get('/v1/projections', serviceToken)).status).toBe(403);
    });
  });
});
