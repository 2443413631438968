import 'aws-sdk-client-mock-jest';
import { GenerateDataKeyCommand, KMSClient, ReEncryptCommand, ScheduleKeyDeletionCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import { SimulatedKms, kmsError } from '../libs/custody-aws-kms/test/simulated-kms.js';
import { bootServer, type TestServer } from './support/server.js';
import { addPrincipal } from './support/fixtures.js';

/*
 * The engine with KEYLEDGER_CUSTODIAN=aws-kms, over real HTTP. No KMS endpoint exists here: the
 * SDK's client is stubbed with aws-sdk-client-mock and answered by a KMS simulation, so this
 * checks what keyledger asks of KMS and how it answers its own callers; not KMS itself.
 */
describe('keyledger on AWS KMS (simulated)', () => {
  let kms: SimulatedKms;
  let server: TestServer;
  let c1: string;
  let c2: string;

  beforeAll(async () => {
    kms = new SimulatedKms();
    server = await bootServer({
      KEYLEDGER_CUSTODIAN: 'aws-kms',
      KEYLEDGER_AWS_KMS_ENDPOINT: 'http://127.0.0.1:4566',
      KEYLEDGER_AWS_KMS_PENDING_WINDOW_DAYS: '9',
      KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS: '0',
    });
    [c1, c2] = await Promise.all(['c1', 'c2'].map((name) => addPrincipal(server.dataDir, name, ['custodian'])));
  });
  afterAll(async () => {
    await server?.close();
    kms.restore();
  });
  beforeEach(() => kms.install());

  const post = (path: string, body: unknown = {}, token?: string) => server.call('POST', path, { body, ...(token ? { token } : {}) });
  const activeKey = async (body: Record<string, unknown>) => {
    const created = await post('/v1/keys', body);
    expect(created.status).toBe(201);
    expect((await post(`/v1/keys/${created.body.id}/activate`)).status).toBe(200);
    return created.body;
  };
  const materialRefOf = async (keyId: string, version: number) =>
    ((await server.events()).find((e) => e.streamId === `key-${keyId}` && (e.data as any).material?.version === version)!.data as any).material.materialRef as string;

  it('talks to the endpoint of KEYLEDGER_AWS_KMS_ENDPOINT', async () => {
    await activeKey({ tenantId: 'acme', purpose: 'kek' });
    const client = kms.mock.commandCalls(CreateKeyCommand)[0]!.thisValue as KMSClient;
    const endpoint = await (client.config.endpoint as () => Promise<{ hostname: string; port?: number; protocol: string }>)();
    expect(endpoint).toMatchObject({ hostname: '127.0.0.1', port: 4566, protocol: 'http:' });
  });

  it('makes each KEK a KMS key and generates data keys with an encryption context naming tenant, key and version', async () => {
    const kek = await activeKey({ tenantId: 'acme', purpose: 'kek' });
    const arn = (await materialRefOf(kek.id, 1)).slice('kms:'.length);

    const dataKey = await post(`/v1/keys/${kek.id}/data-keys`, { context: { table: 'claims' } });
    const opened = await post(`/v1/keys/${kek.id}/decrypt`, { ciphertextBlob: dataKey.body.ciphertextBlob, context: { table: 'claims' } });

    expect(dataKey.status).toBe(200);
    expect(opened.body.plaintext).toBe(dataKey.body.plaintext);
    const [call] = kms.mock.commandCalls(GenerateDataKeyCommand);
    expect(call!.args[0].input).toMatchObject({
      KeyId: arn,
      KeySpec: 'AES_256',
      EncryptionContext: { 'keyledger:tenant': 'acme', 'keyledger:key': kek.id, 'keyledger:version': '1', 'keyledger:aad-sha256': expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
  });

  it('adopts an existing KMS key by alias as a KEK (the Bedrock CMK case)', async () => {
    const arn = kms.existingKey('alias/bedrock-claims');
    const kek = (await post('/v1/keys', { tenantId: 'acme', purpose: 'kek', source: { kind: 'adopt', externalId: 'alias/bedrock-claims' }, vendors: [{ name: 'aws-bedrock', mode: 'cmk', baaStatus: 'signed' }] })).body;
    await post(`/v1/keys/${kek.id}/activate`);

    expect(await materialRefOf(kek.id, 1)).toBe(`kms:${arn}`);
    expect((await post(`/v1/keys/${kek.id}/encrypt`, { plaintext: Buffer.from('x').toString('base64') })).status).toBe(200);
    expect(kms.mock).not.toHaveReceivedCommand(CreateKeyCommand);
  });

  it('imports BYOK material: the fingerprint is the imported key\'s check value', async () => {
    const kek = (await post('/v1/keys', { tenantId: 'acme', purpose: 'kek', source: { kind: 'import' } })).body;
    expect(kek.versions[0].fingerprint).toMatch(/^[0-9a-f]{32}$/);
    const refused = await post('/v1/keys', { tenantId: 'acme', purpose: 'kek', source: { kind: 'adopt', externalId: 'not an arn' } });
    expect(refused.status).toBe(400);
  });

  it('rotates a KEK (DEKs move with ReEncrypt), and destroys the old version with ScheduleKeyDeletion and our pending window', async () => {
    const kek = await activeKey({ tenantId: 'acme', purpose: 'kek' });
    const dek = await activeKey({ tenantId: 'acme', purpose: 'dek', parentKeyId: kek.id });
    const sealed = (await post(`/v1/keys/${dek.id}/encrypt`, { plaintext: Buffer.from('claim').toString('base64') })).body.ciphertext;
    const oldArn = (await materialRefOf(kek.id, 1)).slice('kms:'.length);

    await post(`/v1/keys/${kek.id}/rotate`);
    const deadline = Date.now() + 10_000;
    while (!(await server.events('DekRewrapCompleted')).some((e) => (e.data as any).kekId === kek.id) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(kms.mock).toHaveReceivedCommandWith(ReEncryptCommand, { SourceKeyId: oldArn });
    const requested = (await post('/v1/approvals', { operation: 'schedule-destruction', keyId: kek.id, version: 1, params: { waitingPeriodDays: 0 } })).body;
    await post(`/v1/approvals/${requested.id}/approve`, {}, c1);
    await post(`/v1/approvals/${requested.id}/approve`, {}, c2);
    expect((await post(`/v1/keys/${kek.id}/destroy`, { version: 1 })).status).toBe(200);

    expect(kms.mock).toHaveReceivedCommandWith(ScheduleKeyDeletionCommand, { KeyId: oldArn, PendingWindowInDays: 9 });
    expect(kms.stateOf(oldArn)).toBe('PendingDeletion');
    const opened = await post(`/v1/keys/${dek.id}/decrypt`, { ciphertext: sealed });
    expect(Buffer.from(opened.body.plaintext, 'base64').toString()).toBe('claim');
    const certificate = (await server.call('GET', `/v1/keys/${kek.id}/destruction-certificate`)).body;
    expect(certificate.evidence.verification).toContain('PendingDeletion');
    expect(certificate.evidence.method).toContain('9 days');
  });

  it('answers 503 when KMS keeps throttling past the retries, and records the failed use', async () => {
    const kek = await activeKey({ tenantId: 'acme', purpose: 'kek' });
    kms.mock.on(GenerateDataKeyCommand).rejects(kmsError('ThrottlingException', 'Rate exceeded'));

    const res = await post(`/v1/keys/${kek.id}/data-keys`);

    expect(res.status).toBe(503);
    expect(res.body.code).toBe('CUSTODY.UNAVAILABLE');
    expect(kms.mock.commandCalls(GenerateDataKeyCommand)).toHaveLength(5);
    const failed = (await server.events('KeyUseFailed')).filter((e) => (e.data as any).keyId === kek.id);
    expect(failed.map((e) => (e.data as any).code)).toEqual(['CUSTODY.UNAVAILABLE']);
  });

  it('answers 502 when KMS denies keyledger access, without retrying', async () => {
    const kek = await activeKey({ tenantId: 'acme', purpose: 'kek' });
    kms.mock.on(GenerateDataKeyCommand).rejects(kmsError('AccessDeniedException', 'User: arn:aws:iam::1:user/x is not authorized'));

    const res = await post(`/v1/keys/${kek.id}/data-keys`);

    expect([res.status, res.body.code]).toEqual([502, 'CUSTODY.ACCESS_DENIED']);
    expect(res.body.detail).not.toContain('arn:aws:iam');
    expect(kms.mock.commandCalls(GenerateDataKeyCommand)).toHaveLength(1);
  });
});
