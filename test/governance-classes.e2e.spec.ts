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
