import { bootServer, type TestServer } from './support/server.js';
import { addPrincipal } from './support/fixtures.js';

/** The quorum is configured per operation class: root-key operations and KEK destruction. */
describe('dual control per operation class', () => {
  let server: TestServer;
  let c1: string;
  beforeAll(async () => {
    server = await bootServer({ KEYLEDGER_APPROVALS_REQUIRED_ROOT: '3', KEYLEDGER_APPROVALS_REQUIRED_KEK: '1', KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS: '0' });
    c1 = await addPrincipal(server.dataDir, 'c1', ['custodian']);
  });
  afterAll(() => server.close());

  it('asks three custodians for a root operation and one for a KEK destruction schedule', async () => {
    const root = await server.call('POST', '/v1/approvals', { body: { operation: 'generate', params: { tenantId: 'platform', purpose: 'root' } } });
    expect(root.body.required).toBe(3);
    const kek = (await server.call('POST', '/v1/keys', { body: { tenantId: 'tenant-a', purpose: 'kek' } })).body;
    const request = await server.call('POST', '/v1/approvals', { body: { operation: 'schedule-destruction', keyId: kek.id, params: { waitingPeriodDays: 0 } } });
    expect(request.body.required).toBe(1);
    const approved = await server.call('POST', `/v1/approvals/${request.body.id}/approve`, { body: {}, token: c1 });
    expect(approved.body.state).toBe('executed');
  });
});

describe('approval requests expire', () => {
  it('refuses to execute a request past its lifetime, over HTTP with an injected clock', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { loadConfig } = await import('../apps/api/src/config.js');
    const { JsonLogger } = await import('../apps/api/src/observability/logger.js');
    const { startServer } = await import('../apps/api/src/server.js');
    const dataDir = mkdtempSync(join(tmpdir(), 'keyledger-expiry-'));
    let offset = 0;
    const token = `klt_expiry_admin_${'e'.repeat(24)}`;
    const config = loadConfig({ KEYLEDGER_DATA_DIR: dataDir, KEYLEDGER_PORT: '0', KEYLEDGER_ADMIN_TOKEN: token, KEYLEDGER_APPROVAL_TTL_HOURS: '1', KEYLEDGER_APPROVALS_REQUIRED: '1' });
    const server = await startServer(config, new JsonLogger('silent'), { clock: { now: () => new Date(Date.now() + offset) } });
    const call = async (path: string, body: unknown, bearer = token) => {
      const res = await fetch(server.url + path, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    };
    try {
      const custodian = (await call('/v1/principals', { name: 'c', roles: ['custodian'] })).body.token;
      const request = await call('/v1/approvals', { operation: 'generate', params: { tenantId: 'platform', purpose: 'root' } });
      offset = 3_600_000 + 1000;
      const late = await call(`/v1/approvals/${request.body.id}/approve`, {}, custodian);
      expect([late.status, late.body.code]).toEqual([409, 'APPROVAL.EXPIRED']);
      const fresh = await call('/v1/approvals', { operation: 'generate', params: { tenantId: 'platform', purpose: 'root' } });
      expect((await call(`/v1/approvals/${fresh.body.id}/approve`, {}, custodian)).body.state).toBe('executed');
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
