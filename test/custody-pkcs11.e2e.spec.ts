import { createSoftHsmToken, listTokenObjects, type SoftHsmToken } from '../libs/custody-pkcs11/test/softhsm-token.js';
import { bootServer, type TestServer } from './support/server.js';
import { addPrincipal, encodingsOf, filesUnder, recipientKeys } from './support/fixtures.js';

/**
 * The engine on a PKCS#11 token (SoftHSM2, a fresh token in a temp dir): KEKs are
 * non-extractable token objects, DEKs are wrapped by them and kept outside, the data plane and a
 * KEK rotation work on it, destruction is proven with C_FindObjects, and the PIN is never logged.
 */
describe('keyledger on a PKCS#11 token', () => {
  let token: SoftHsmToken;
  let server: TestServer;
  let c1: string;
  let c2: string;

  beforeAll(async () => {
    token = createSoftHsmToken('e2e');
    server = await bootServer({ ...token.env, KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS: '0' });
    [c1, c2] = await Promise.all(['c1', 'c2'].map((name) => addPrincipal(server.dataDir, name, ['custodian'])));
  });
  afterAll(async () => {
    await server?.close();
    token?.cleanup();
  });

  const post = (path: string, body: unknown = {}, token?: string) => server.call('POST', path, { body, ...(token ? { token } : {}) });
  const activeKey = async (body: Record<string, unknown>) => {
    const created = await post('/v1/keys', body);
    expect(created.status).toBe(201);
    expect((await post(`/v1/keys/${created.body.id}/activate`)).status).toBe(200);
    return created.body;
  };
  const materialRefOf = async (keyId: string, version: number) =>
    ((await server.events()).find((e) => e.streamId === `key-${keyId}` && (e.data as any).material?.version === version)!.data as any).material.materialRef as string;
  const idHex = (ref: string) => Buffer.from(ref).toString('hex');

  it('records pkcs11 as the custodian of its keys, and refuses a key asked of another custodian', async () => {
    const kek = await activeKey({ tenantId: 't1', purpose: 'kek' });
    expect(kek.custodian).toBe('pkcs11');
    const refused = await post('/v1/keys', { tenantId: 't1', purpose: 'kek', custodian: 'software' });
    expect(refused.status).toBe(400);
  });

  it('serves the data plane with a KEK on the token and a DEK wrapped under it', async () => {
    const kek = await activeKey({ tenantId: 't1', purpose: 'kek' });
    const dek = await activeKey({ tenantId: 't1', purpose: 'dek', parentKeyId: kek.id });

    const dataKey = await post(`/v1/keys/${kek.id}/data-keys`);
    const opened = await post(`/v1/keys/${kek.id}/decrypt`, { ciphertextBlob: dataKey.body.ciphertextBlob });
    const sealed = await post(`/v1/keys/${dek.id}/encrypt`, { plaintext: Buffer.from('on the token').toString('base64'), context: { a: '1' } });
    const decrypted = await post(`/v1/keys/${dek.id}/decrypt`, { ciphertext: sealed.body.ciphertext, context: { a: '1' } });

    expect(opened.body.plaintext).toBe(dataKey.body.plaintext);
    expect(Buffer.from(decrypted.body.plaintext, 'base64').toString()).toBe('on the token');
    const listing = listTokenObjects(token);
    expect(listing).toContain(idHex(await materialRefOf(kek.id, 1)));
    expect(listing).not.toContain(idHex(await materialRefOf(dek.id, 1)));
  });

  it('refuses to distribute a KEK: its material never leaves the token', async () => {
    const kek = await activeKey({ tenantId: 't1', purpose: 'kek' });
    const recipient = recipientKeys();
    const registered = (await post('/v1/recipients', { name: 'r', tenantId: 't1', publicKeyPem: recipient.publicKeyPem })).body;

    const res = await post(`/v1/keys/${kek.id}/distribute`, { recipientId: registered.id });

    expect(res.status).toBe(422);
    expect(res.body.code).toBe('CUSTODY.NOT_EXTRACTABLE');
  });

  it('rotates a KEK, rewraps its DEKs inside the token, destroys the old version and certifies it with C_FindObjects', async () => {
    const kek = await activeKey({ tenantId: 't2', purpose: 'kek', classifications: ['ephi'] });
    const deks = await Promise.all([1, 2, 3].map(() => activeKey({ tenantId: 't2', purpose: 'dek', parentKeyId: kek.id })));
    const sealed = await Promise.all(deks.map(async (d) => (await post(`/v1/keys/${d.id}/encrypt`, { plaintext: Buffer.from(d.id).toString('base64') })).body.ciphertext));
    const oldRef = await materialRefOf(kek.id, 1);

    await post(`/v1/keys/${kek.id}/rotate`);
    const deadline = Date.now() + 10_000;
    while (!(await server.events('DekRewrapCompleted')).some((e) => (e.data as any).kekId === kek.id) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const requested = (await post('/v1/approvals', { operation: 'schedule-destruction', keyId: kek.id, version: 1, params: { waitingPeriodDays: 0 } })).body;
    await post(`/v1/approvals/${requested.id}/approve`, {}, c1);
    await post(`/v1/approvals/${requested.id}/approve`, {}, c2);
    expect((await post(`/v1/keys/${kek.id}/destroy`, { version: 1 })).status).toBe(200);

    expect(listTokenObjects(token)).not.toContain(idHex(oldRef));
    const opened = await Promise.all(deks.map((d, i) => post(`/v1/keys/${d.id}/decrypt`, { ciphertext: sealed[i] })));
    expect(opened.map((o) => Buffer.from(o.body.plaintext, 'base64').toString())).toEqual(deks.map((d) => d.id));
    const certificate = (await server.call('GET', `/v1/keys/${kek.id}/destruction-certificate?version=1`)).body;
    expect(certificate.evidence).toMatchObject({ custodian: 'pkcs11', materialRef: oldRef, verifiedAbsent: true });
    expect(certificate.evidence.method).toContain('C_DestroyObject');
    expect(certificate.evidence.verification).toContain('C_FindObjects');
    expect(certificate.approvals).toHaveLength(1);
  });

  it('keeps working after a restart (the module is finalized and initialized again)', async () => {
    const kek = await activeKey({ tenantId: 't3', purpose: 'kek' });
    const sealed = (await post(`/v1/keys/${kek.id}/encrypt`, { plaintext: Buffer.from('before').toString('base64') })).body.ciphertext;

    await server.restart();

    const opened = await post(`/v1/keys/${kek.id}/decrypt`, { ciphertext: sealed });
    expect(Buffer.from(opened.body.plaintext, 'base64').toString()).toBe('before');
  });

  it('signs audit checkpoints with an Ed25519 key held in the token: GET /v1/audit/verify is intact, no key file in the data dir', async () => {
    await activeKey({ tenantId: 't5', purpose: 'kek' });
    await server.restart(); // seals at shutdown, and finds the same token key again at start

    const key = (await server.call('GET', '/v1/audit/public-key')).body;
    const verified = await server.call('GET', '/v1/audit/verify');
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ intact: true, trustedKeyIds: [key.keyId] });
    expect(verified.body.checkpoints).toBeGreaterThan(0);
    const signers = (await server.events('AuditCheckpointSigned')).map((e) => (e.data as any).head.keyId);
    expect(new Set(signers)).toEqual(new Set([key.keyId]));
    const opened = server.logs.filter((line) => line.includes('audit signer opened'));
    expect(opened.at(-1)).toContain('PKCS#11 Ed25519 key');
    expect(opened.at(-1)).toContain(token.label);
    expect(listTokenObjects(token)).toContain('keyledger-audit-signing');
    expect(filesUnder(server.dataDir).map((f) => f.path).filter((path) => path.endsWith('audit-signing.key'))).toEqual([]);
  });

  it('never writes the PIN, nor any data key, to the logs, the events or the data dir', async () => {
    const kek = await activeKey({ tenantId: 't4', purpose: 'kek' });
    const dataKey = Buffer.from((await post(`/v1/keys/${kek.id}/data-keys`)).body.plaintext, 'base64');
    const logs = server.logs.join('\n');
    const events = JSON.stringify(await server.events());
    const files = filesUnder(server.dataDir);

    expect(logs).toContain('PKCS#11 token');
    for (const needle of [Buffer.from(token.pin), ...encodingsOf(dataKey)]) {
      expect(logs.includes(needle.toString())).toBe(false);
      expect(events.includes(needle.toString())).toBe(false);
      expect(files.filter((f) => f.bytes.includes(needle)).map((f) => f.path)).toEqual([]);
    }
  });
});

describe('keyledger refuses to start on a misconfigured token', () => {
  it('names the missing settings, and never the PIN', async () => {
    const token = createSoftHsmToken('misconfigured');
    try {
      const failures = [
        await bootServer({ ...token.env, KEYLEDGER_PKCS11_PIN_FILE: '' }).catch((error: Error) => error),
        await bootServer({ ...token.env, KEYLEDGER_PKCS11_TOKEN_LABEL: 'no-such-token' }).catch((error: Error) => error),
      ];
      expect((failures[0] as Error).message).toContain('KEYLEDGER_PKCS11_PIN_FILE');
      expect((failures[1] as Error).message).toContain('no-such-token');
      for (const failure of failures) expect(`${(failure as Error).message}${(failure as Error).stack}`).not.toContain(token.pin);
    } finally {
      token.cleanup();
    }
  });
});
