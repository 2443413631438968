import { generateKeyPairSync, sign } from 'node:crypto';
import { bootServer, type TestServer } from './support/server.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addPrincipal, cli } from './support/fixtures.js';

/** SPEC §5 over real HTTP: dual control for root operations and KEK destruction, and ceremonies. */
describe('governance', () => {
  let server: TestServer;
  let c1: string;
  let c2: string;
  let c3: string;
  beforeAll(async () => {
    server = await bootServer({ KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS: '0' });
    [c1, c2, c3] = await Promise.all(['c1', 'c2', 'c3'].map((name) => addPrincipal(server.dataDir, name, ['custodian'])));
  });
  afterAll(() => server.close());

  const post = (path: string, body: unknown = {}, token?: string) => server.call('POST', path, { body, ...(token ? { token } : {}) });
  const requestApproval = async (body: Record<string, unknown>) => {
    const res = await post('/v1/approvals', body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ state: 'pending', approvals: [], required: 2, expiresAt: expect.any(String) });
    return res.body.id as string;
  };
  const approvedBy = async (approvalId: string, ...tokens: string[]) => {
    let last;
    for (const token of tokens) last = await post(`/v1/approvals/${approvalId}/approve`, {}, token);
    return last!;
  };
  const newRoot = async (): Promise<string> => {
    const id = await requestApproval({ operation: 'generate', params: { tenantId: 'platform', purpose: 'root' } });
    const res = await approvedBy(id, c1, c2);
    return res.body.operationResult.id;
  };

  it('refuses root generation called directly, whatever the caller\'s roles, and appends nothing', async () => {
    const before = await server.eventCount();
    const res = await post('/v1/keys', { tenantId: 'platform', purpose: 'root' });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('APPROVAL.REQUIRED');
    expect(res.body.detail).toContain('/v1/approvals');
    expect(await server.eventCount()).toBe(before);
  });

  it('executes a root generation on the second distinct custodian, not on the requester or a repeat', async () => {
    const id = await requestApproval({ operation: 'generate', params: { tenantId: 'platform', purpose: 'root', label: 'platform root' } });
    const self = await post(`/v1/approvals/${id}/approve`);
    expect([self.status, self.body.code]).toEqual([403, 'APPROVAL.SELF_APPROVAL']);
    const first = await post(`/v1/approvals/${id}/approve`, {}, c1);
    expect(first.body).toMatchObject({ state: 'pending', approvals: [expect.any(String)] });
    const again = await post(`/v1/approvals/${id}/approve`, {}, c1);
    expect([again.status, again.body.code]).toEqual([409, 'APPROVAL.ALREADY_APPROVED']);
    const second = await post(`/v1/approvals/${id}/approve`, {}, c2);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ state: 'executed', result: { keyId: expect.any(String) } });
    expect(second.body.operationResult).toMatchObject({ purpose: 'root', label: 'platform root', versions: [{ state: 'pre-activation' }] });
    const after = await post(`/v1/approvals/${id}/approve`, {}, c3);
    expect([after.status, after.body.code]).toEqual([409, 'APPROVAL.NOT_PENDING']);
  });

  it('two custodians approving at once execute the operation exactly once', async () => {
    const rootId = await newRoot();
    const id = await requestApproval({ operation: 'activate', keyId: rootId });
    const answers = await Promise.all([post(`/v1/approvals/${id}/approve`, {}, c1), post(`/v1/approvals/${id}/approve`, {}, c2)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers.filter((a) => a.body.state === 'executed')).toHaveLength(1);
    const history = (await server.call('GET', `/v1/keys/${rootId}/history`)).body.events.map((e: any) => e.type);
    expect(history.filter((t: string) => t === 'KeyVersionActivated')).toHaveLength(1);
    expect((await server.call('GET', `/v1/approvals/${id}`)).body.state).toBe('executed');
  });

  it.each(['activate', 'rotate', 'schedule-destruction', 'destroy'])('refuses the root lifecycle route %s called directly', async (verb) => {
    const rootId = await newRoot();
    const res = await post(`/v1/keys/${rootId}/${verb}`, verb === 'schedule-destruction' ? { waitingPeriodDays: 7 } : {});
    expect([res.status, res.body.code]).toEqual([403, 'APPROVAL.REQUIRED']);
  });

  it("needs approval to schedule a KEK's destruction, but not for the destroy that ends it", async () => {
    const rootId = await newRoot();
    await approvedBy(await requestApproval({ operation: 'activate', keyId: rootId }), c1, c2);
    const kek = (await post('/v1/keys', { tenantId: 'tenant-a', purpose: 'kek', parentKeyId: rootId })).body;
    expect(kek.parentKeyId).toBe(rootId);
    const direct = await post(`/v1/keys/${kek.id}/schedule-destruction`, { waitingPeriodDays: 0 });
    expect([direct.status, direct.body.code]).toEqual([403, 'APPROVAL.REQUIRED']);
    const id = await requestApproval({ operation: 'schedule-destruction', keyId: kek.id, params: { waitingPeriodDays: 0 } });
    const executed = await approvedBy(id, c2, c3);
    expect(executed.body.state).toBe('executed');
    expect(executed.body.operationResult.versions[0].destructionScheduledFor).not.toBeNull();
    const destroyed = await post(`/v1/keys/${kek.id}/destroy`);
    expect(destroyed.status).toBe(200);
    expect(destroyed.body.versions[0].state).toBe('destroyed');
  });

  it('refuses approval requests for operations that need none', async () => {
    const kek = (await post('/v1/keys', { tenantId: 'tenant-b', purpose: 'kek' })).body;
    const res = await post('/v1/approvals', { operation: 'rotate', keyId: kek.id });
    expect([res.status, res.body.code]).toEqual([400, 'VALIDATION.INVALID_INPUT']);
  });

  it('stops a denied request from executing', async () => {
    const rootId = await newRoot();
    const id = await requestApproval({ operation: 'activate', keyId: rootId });
    const denied = await post(`/v1/approvals/${id}/deny`, { reason: 'not scheduled' }, c1);
    expect(denied.body.state).toBe('denied');
    const late = await post(`/v1/approvals/${id}/approve`, {}, c2);
    expect([late.status, late.body.code]).toEqual([409, 'APPROVAL.NOT_PENDING']);
    const key = (await server.call('GET', `/v1/keys/${rootId}`)).body;
    expect(key.versions[0].state).toBe('pre-activation');
  });

  it('refuses approvals from principals who are not custodians', async () => {
    const auditor = await addPrincipal(server.dataDir, 'auditor-g', ['auditor']);
    const id = await requestApproval({ operation: 'generate', params: { tenantId: 'platform', purpose: 'root' } });
    expect((await post(`/v1/approvals/${id}/approve`, {}, auditor)).status).toBe(403);
  });

  describe('ceremonies', () => {
    const witness = (name: string) => {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      return {
        name,
        publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        sign: (hashHex: string) => sign(null, Buffer.from(hashHex, 'hex'), privateKey).toString('base64'),
      };
    };

    it('closes only when every witness has signed the current transcript', async () => {
      const w1 = witness('Dana');
      const w2 = witness('Eli');
      const opened = await post('/v1/ceremonies', { purpose: 'annual root rotation', witnesses: [w1, w2].map(({ name, publicKeyPem }) => ({ name, publicKeyPem })) });
      expect(opened.status).toBe(201);
      const id = opened.body.id;
      expect((await post(`/v1/ceremonies/${id}/steps`, { description: 'generate the new root in the HSM' })).status).toBe(201);
      const hash = (await server.call('GET', `/v1/ceremonies/${id}`)).body.transcriptHash;
      expect(hash).toMatch(/^[0-9a-f]{64}$/);

      const forged = await post(`/v1/ceremonies/${id}/attestations`, { witness: 'Dana', signature: w2.sign(hash) });
      expect([forged.status, forged.body.code]).toEqual([422, 'CEREMONY.BAD_SIGNATURE']);
      const stranger = await post(`/v1/ceremonies/${id}/attestations`, { witness: 'Mallory', signature: w1.sign(hash) });
      expect(stranger.body.code).toBe('CEREMONY.UNKNOWN_WITNESS');
      expect((await post(`/v1/ceremonies/${id}/attestations`, { witness: 'Dana', signature: w1.sign(hash) })).status).toBe(201);
      const early = await post(`/v1/ceremonies/${id}/close`);
      expect([early.status, early.body.code]).toEqual([409, 'CEREMONY.ATTESTATIONS_MISSING']);
      expect((await post(`/v1/ceremonies/${id}/attestations`, { witness: 'Eli', signature: w2.sign(hash) })).status).toBe(201);

      await post(`/v1/ceremonies/${id}/steps`, { description: 'a step added after the signatures' });
      const changed = await post(`/v1/ceremonies/${id}/close`);
      expect([changed.status, changed.body.code]).toEqual([409, 'CEREMONY.ATTESTATIONS_MISSING']);

      const newHash = (await server.call('GET', `/v1/ceremonies/${id}`)).body.transcriptHash;
      expect(newHash).not.toBe(hash);
      for (const w of [w1, w2]) await post(`/v1/ceremonies/${id}/attestations`, { witness: w.name, signature: w.sign(newHash) });
      const closed = await post(`/v1/ceremonies/${id}/close`);
      expect(closed.status).toBe(200);
      expect(closed.body).toMatchObject({ state: 'closed', attestedBy: ['Dana', 'Eli'] });
      expect((await post(`/v1/ceremonies/${id}/steps`, { description: 'too late' })).body.code).toBe('CEREMONY.CLOSED');
    });

    it('accepts a signature made with `keyledger ceremony sign` from a witness key file', async () => {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const keyFile = join(mkdtempSync(join(tmpdir(), 'keyledger-witness-')), 'witness.pem');
      writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const id = (await post('/v1/ceremonies', { purpose: 'KEK escrow review', witnesses: [{ name: 'Fay', publicKeyPem }] })).body.id;
      const hash = (await server.call('GET', `/v1/ceremonies/${id}`)).body.transcriptHash;
      const signature = (await cli(['ceremony', 'sign', '--key', keyFile, '--hash', hash], {})).stdout.trim();
      expect((await post(`/v1/ceremonies/${id}/attestations`, { witness: 'Fay', signature })).status).toBe(201);
      expect((await post(`/v1/ceremonies/${id}/close`)).body.state).toBe('closed');
    });

    it('carries a dual-control request as a step, named in the transcript the witnesses sign', async () => {
      const w = witness('Gil');
      const id = (await post('/v1/ceremonies', { purpose: 'root generation', witnesses: [{ name: w.name, publicKeyPem: w.publicKeyPem }] })).body.id;
      const approvalId = await requestApproval({ operation: 'generate', params: { tenantId: 'platform', purpose: 'root' } });
      const unknown = await post(`/v1/ceremonies/${id}/steps`, { description: 'x', approvalId: 'no-such-request' });
      expect([unknown.status, unknown.body.code]).toEqual([404, 'APPROVAL.NOT_FOUND']);
      const before = (await server.call('GET', `/v1/ceremonies/${id}`)).body.transcriptHash;
      const step = await post(`/v1/ceremonies/${id}/steps`, { description: 'custodians approve the new root', approvalId });
      expect(step.body.steps[0]).toMatchObject({ approval: { approvalId, operation: 'generate', keyId: null } });
      expect(step.body.transcriptHash).not.toBe(before);
      await approvedBy(approvalId, c1, c2);
      await post(`/v1/ceremonies/${id}/attestations`, { witness: 'Gil', signature: w.sign(step.body.transcriptHash) });
      expect((await post(`/v1/ceremonies/${id}/close`)).body.state).toBe('closed');
    });

    it('refuses witnesses whose key is not Ed25519', async () => {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const res = await post('/v1/ceremonies', { purpose: 'x', witnesses: [{ name: 'W', publicKeyPem: rsa }] });
      expect([res.status, res.body.code]).toEqual([400, 'VALIDATION.INVALID_INPUT']);
    });
  });

  describe('principals API', () => {
    it('adds, rotates and revokes principals; revocation takes effect at once', async () => {
      const added = await post('/v1/principals', { name: 'billing', roles: ['service'], tenantId: 'tenant-a' });
      expect(added.status).toBe(201);
      const { principal, token } = added.body;
      expect(principal).toMatchObject({ name: 'billing', roles: ['service'], tenantId: 'tenant-a', revokedAt: null });
      expect((await server.call('GET', '/v1/keys', { token })).status).toBe(200);
      const rotated = await post(`/v1/principals/${principal.id}/rotate-token`);
      expect(rotated.body.token).not.toBe(token);
      expect((await server.call('GET', '/v1/keys', { token })).status).toBe(401);
      expect((await server.call('GET', '/v1/keys', { token: rotated.body.token })).status).toBe(200);
      const listed = (await server.call('GET', '/v1/principals')).body.items;
      expect(listed.map((p: any) => p.name)).toContain('billing');
      expect(JSON.stringify(listed)).not.toMatch(/tokenHash|klt_/);
      expect((await post(`/v1/principals/${principal.id}/revoke`)).body.revokedAt).not.toBeNull();
      expect((await server.call('GET', '/v1/keys', { token: rotated.body.token })).status).toBe(401);
    });

    it('refuses a service principal without a tenant, and callers who are not operators', async () => {
      const res = await post('/v1/principals', { name: 'x', roles: ['service'] });
      expect([res.status, res.body.code]).toEqual([400, 'VALIDATION.INVALID_INPUT']);
      expect((await post('/v1/principals', { name: 'y', roles: ['auditor'] }, c1)).status).toBe(403);
    });
  });

  describe('classifications and vendors', () => {
    it('are edited by key-admins as events, and the compliance findings follow', async () => {
      const kek = (await post('/v1/keys', { tenantId: 'tenant-meta', purpose: 'kek' })).body;
      const findings = async (rule: string) =>
        (await server.call('GET', `/v1/compliance?tenantId=tenant-meta&rule=${rule}`)).body.findings.filter((f: any) => f.keyId === kek.id);
      expect(await findings('classification-missing')).toHaveLength(1);

      const updated = await server.call('PATCH', `/v1/keys/${kek.id}`, {
        body: { classifications: ['ephi'], vendors: [{ name: 'openai', mode: 'none', baaStatus: 'signed' }] },
      });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({ classifications: ['ephi'], vendors: [{ name: 'openai', mode: 'none' }], revision: 1 });
      expect(await findings('classification-missing')).toHaveLength(0);
      expect(await findings('vendor-without-byok-or-zero-retention')).toHaveLength(1);

      await server.call('PATCH', `/v1/keys/${kek.id}`, { body: { vendors: [{ name: 'openai', mode: 'zero-retention', baaStatus: 'signed' }] } });
      expect(await findings('vendor-without-byok-or-zero-retention')).toHaveLength(0);
      const audit = (await server.call('GET', `/v1/audit/events?keyId=${kek.id}&operation=update-metadata`)).body.items;
      expect(audit).toHaveLength(2);
    });

    it('refuses unknown classes and callers who are not key-admins, appending nothing', async () => {
      const kek = (await post('/v1/keys', { tenantId: 'tenant-meta', purpose: 'kek' })).body;
      const before = await server.eventCount();
      const bad = await server.call('PATCH', `/v1/keys/${kek.id}`, { body: { classifications: ['top-secret'] } });
      expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION.INVALID_INPUT']);
      const forbidden = await server.call('PATCH', `/v1/keys/${kek.id}`, { body: { classifications: ['pii'] }, token: c1 });
      expect(forbidden.status).toBe(403);
      expect(await server.eventCount()).toBe(before);
    });
  });
});
