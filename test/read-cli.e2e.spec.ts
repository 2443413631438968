import { randomUUID } from 'node:crypto';
import { bootServer, storesUnderTest, type TestServer } from './support/server.js';

/**
 * `keyledger projections status|rebuild` and `keyledger audit replay`, run as the built CLI on the
 * server's store while the server runs: a rebuild leaves the API answering the same, and a replay
 * from the log prints what the API answers for the same instant.
 */
describe.each(storesUnderTest())('read-side CLI on $name', ({ env }) => {
  let server: TestServer;
  const tenant = `cli-${randomUUID().slice(0, 8)}`;
  let kekId: string;
  let between: string;

  const post = async (path: string, body: unknown = {}) => {
    const res = await server.call('POST', path, { body });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const get = async (path: string) => (await server.call('GET', path)).body;

  beforeAll(async () => {
    server = await bootServer(env);
    kekId = (await post('/v1/keys', { tenantId: tenant, purpose: 'kek', classifications: ['ephi'] })).id;
    await post(`/v1/keys/${kekId}/activate`);
    for (let i = 0; i < 3; i += 1) await post('/v1/keys', { tenantId: tenant, purpose: 'dek', parentKeyId: kekId, classifications: ['pii'] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    between = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await post(`/v1/keys/${kekId}/suspend`);
    await post('/v1/keys', { tenantId: tenant, purpose: 'kek' });
  });
  afterAll(() => server.close());

  it('prints each projection with its position and lag', async () => {
    const before = (await get('/v1/projections')).items[0].position;
    const { stdout } = await server.cli(['projections', 'status']);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^projection\s+position\s+head\s+lag\s+unknown events\s+last failure$/);
    const rows = lines.slice(1).map((line) => line.split(/\s+/));
    expect(rows.map((row) => row[0])).toEqual(['inventory', 'audit', 'compliance']);
    for (const [, position, head, lag] of rows) {
      // The server may append (the scheduler's lease) between the two reads: lag is what remains.
      expect(Number(position)).toBeGreaterThanOrEqual(before);
      expect(Number(lag)).toBe(Number(head) - Number(position));
    }
    const json = JSON.parse((await server.cli(['projections', 'status', '--json'])).stdout);
    expect(json.map((s: any) => [s.projection, s.lag, s.failure])).toEqual([
      ['inventory', 0, null],
      ['audit', 0, null],
      ['compliance', 0, null],
    ]);
  });

  it('rebuilds from the log with a final count and rate, and the API answers the same afterwards', async () => {
    const inventory = await get(`/v1/keys?tenantId=${tenant}&limit=1000`);
    const audit = await get(`/v1/audit/events?tenantId=${tenant}&limit=1000`);
    const head = (await get('/v1/projections')).items[0].head;
    const all = await server.cli(['projections', 'rebuild']);
    const [, events, position] = /^rebuilt inventory, audit, compliance: (\d+) events in \d+\.\d\d s \(\d+ events\/s\), position (\d+)\n$/.exec(all.stdout) ?? [];
    expect(Number(events)).toBeGreaterThanOrEqual(head); // every event of the log, and any appended meanwhile
    expect(Number(position)).toBe(Number(events));
    const one = await server.cli(['projections', 'rebuild', 'audit']);
    expect(one.stdout).toMatch(/^rebuilt audit: \d+ events/);
    expect(await get(`/v1/keys?tenantId=${tenant}&limit=1000`)).toEqual(inventory);
    expect(await get(`/v1/audit/events?tenantId=${tenant}&limit=1000`)).toEqual(audit);
    await expect(server.cli(['projections', 'rebuild', 'nonsense'])).rejects.toMatchObject({ stderr: expect.stringContaining('unknown projection "nonsense"') });
  });

  it('replays the inventory at an instant from the log, printing what GET /v1/keys?at= answers', async () => {
    const replayed = JSON.parse((await server.cli(['audit', 'replay', '--at', between])).stdout);
    const api = await get(`/v1/keys?at=${encodeURIComponent(between)}&limit=1000`);
    expect(replayed).toEqual({ items: api.items, nextCursor: null });
    const mine = replayed.items.filter((k: any) => k.tenantId === tenant);
    expect(mine).toHaveLength(4);
    expect(mine.find((k: any) => k.id === kekId).state).toBe('active');
  });

  it('replays one key at an instant, printing what GET /v1/keys/{id}?at= answers', async () => {
    const replayed = JSON.parse((await server.cli(['audit', 'replay', '--at', between, '--key', kekId])).stdout);
    expect(replayed).toEqual(await get(`/v1/keys/${kekId}?at=${encodeURIComponent(between)}`));
    expect(replayed.versions[0].state).toBe('active');
    const now = JSON.parse((await server.cli(['audit', 'replay', '--at', new Date().toISOString(), '--key', kekId])).stdout);
    expect(now.versions[0].state).toBe('suspended');
    await expect(server.cli(['audit', 'replay', '--at', '2000-01-01T00:00:00Z', '--key', kekId])).rejects.toMatchObject({
      stderr: expect.stringContaining(`Key ${kekId} was not found`),
    });
    await expect(server.cli(['audit', 'replay', '--at', 'yesterday'])).rejects.toMatchObject({ stderr: expect.stringContaining('ISO-8601') });
  });
});
