import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../apps/api/src/config.js';
import { JsonLogger } from '../apps/api/src/observability/logger.js';
import { startServer, type RunningServer } from '../apps/api/src/server.js';

/**
 * The rotation scheduler with an injected clock, over real HTTP, with two API instances on one
 * store: versions rotate at the end of their OUP, exactly once; roots get a finding instead.
 */
describe('rotation scheduler', () => {
  const DAY = 86_400_000;
  let offset = 0;
  const clock = { now: () => new Date(Date.now() + offset) };
  const token = `klt_scheduler_admin_${'x'.repeat(24)}`;
  let dataDir: string;
  let servers: RunningServer[];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'keyledger-scheduler-'));
    const config = loadConfig({ KEYLEDGER_DATA_DIR: dataDir, KEYLEDGER_PORT: '0', KEYLEDGER_ADMIN_TOKEN: token, KEYLEDGER_SCHEDULER_INTERVAL_MS: '0' });
    const quiet = () => new JsonLogger('silent');
    servers = [await startServer(config, quiet(), { clock }), await startServer(config, quiet(), { clock })];
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const call = async (server: RunningServer, method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const activeKey = async (body: Record<string, unknown>) => {
    const key = (await call(servers[0]!, 'POST', '/v1/keys', body)).body;
    await call(servers[0]!, 'POST', `/v1/keys/${key.id}/activate`, {});
    return key.id as string;
  };
  const runBoth = () => Promise.all(servers.map((s) => call(s, 'POST', '/v1/scheduler/run', {})));

  it('rotates a DEK at the end of its OUP, exactly once across two instances, with the scheduler as actor', async () => {
    const kekId = await activeKey({ tenantId: 'tenant-s', purpose: 'kek' });
    const dekId = await activeKey({ tenantId: 'tenant-s', purpose: 'dek', parentKeyId: kekId, cryptoperiodDays: 30 });

    offset = 29 * DAY;
    const early = await runBoth();
    expect(early.flatMap((r) => r.body.rotated)).toEqual([]);

    offset = 30 * DAY + 60_000;
    const reports = await runBoth();
    expect(reports.filter((r) => r.body.active)).toHaveLength(1);
    expect(reports.flatMap((r) => r.body.rotated)).toEqual([{ keyId: dekId, fromVersion: 1, toVersion: 2 }]);
    const again = await runBoth();
    expect(again.flatMap((r) => r.body.rotated)).toEqual([]);

    const dek = (await call(servers[1]!, 'GET', `/v1/keys/${dekId}`)).body;
    expect(dek.versions.map((v: any) => v.state)).toEqual(['deactivated', 'active']);
    const history = (await call(servers[1]!, 'GET', `/v1/keys/${dekId}/history`)).body.events;
    const rotation = history.find((e: any) => e.type === 'KeyRotated');
    expect(rotation.actor).toBe('system:scheduler');
  });

  it('raises a finding for a root instead of rotating it, once per version', async () => {
    offset = 0;
    const custodian = async (name: string) => (await call(servers[0]!, 'POST', '/v1/principals', { name, roles: ['custodian'] })).body.token as string;
    const [c1, c2] = [await custodian('c1'), await custodian('c2')];
    const approve = async (approvalId: string) => {
      let last;
      for (const t of [c1, c2]) {
        last = await fetch(`${servers[0]!.url}/v1/approvals/${approvalId}/approve`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
          body: '{}',
        }).then((r) => r.json() as Promise<any>);
      }
      return last;
    };
    const generated = await approve((await call(servers[0]!, 'POST', '/v1/approvals', { operation: 'generate', params: { tenantId: 'platform', purpose: 'root' } })).body.id);
    const rootId = generated.operationResult.id as string;
    await approve((await call(servers[0]!, 'POST', '/v1/approvals', { operation: 'activate', keyId: rootId })).body.id);

    offset = 731 * DAY;
    const raised = (await runBoth()).flatMap((r) => r.body.raised);
    expect(raised).toEqual([expect.objectContaining({ keyId: rootId, version: 1, purpose: 'root' })]);
    expect((await runBoth()).flatMap((r) => r.body.raised)).toEqual([]);
    const root = (await call(servers[0]!, 'GET', `/v1/keys/${rootId}`)).body;
    expect(root.versions.map((v: any) => v.state)).toEqual(['active']);
  });
});
