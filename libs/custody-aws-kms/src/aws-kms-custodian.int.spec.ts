import 'aws-sdk-client-mock-jest';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  KMSClient,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import {
  CustodianAccessDeniedError,
  CustodianKeyStateError,
  CustodianUnavailableError,
  DecryptionFailedError,
  MaterialNotExtractableError,
  MaterialNotFoundError,
  SqliteMaterialStore,
  keyCheckValue,
} from '@keyledger/custody';
import { custodianContract, keyRequest, makeTestRecipient } from '../../custody/src/contract.js';
import { SimulatedKms, kmsError } from '../test/simulated-kms.js';
import { AwsKmsCustodian, type AwsKmsCustodianOptions } from './aws-kms-custodian.js';

/*
 * No KMS endpoint exists here: these tests run the adapter against a KMS simulation behind
 * aws-sdk-client-mock. They prove the requests the adapter sends (key ids, encryption contexts,
 * pending windows, import parameters) and how it maps KMS's errors; the contract suite checks its
 * logic end to end on the simulation. What only the real service can show (IAM policies, real
 * throttling, real deletion after the pending window) is not tested here.
 */
const STORAGE_ALIAS = 'alias/keyledger-storage';

const openOn = (kms: SimulatedKms, dataDir: string, extra: Partial<AwsKmsCustodianOptions> = {}) =>
  AwsKmsCustodian.open({
    client: new KMSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    materialStore: SqliteMaterialStore.open(join(dataDir, 'key-material.db')),
    storageKeyId: STORAGE_ALIAS,
    wait: async () => undefined,
    ...extra,
  });

describe('AwsKmsCustodian', () => {
  let kms: SimulatedKms;
  beforeAll(() => {
    kms = new SimulatedKms();
  });
  afterAll(() => kms.restore());

  custodianContract('aws-kms against a simulated KMS', async () => {
    kms.install();
    kms.existingKey(STORAGE_ALIAS);
    const dataDir = mkdtempSync(join(tmpdir(), 'keyledger-kms-'));
    const custodian = await openOn(kms, dataDir);
    return {
      custodian,
      cleanup: async () => {
        await custodian.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  });

  describe('requests', () => {
    let dataDir: string;
    let custodian: AwsKmsCustodian;
    const arnOf = (ref: string) => ref.slice('kms:'.length);

    beforeEach(async () => {
      kms.install();
      kms.existingKey(STORAGE_ALIAS);
      dataDir = mkdtempSync(join(tmpdir(), 'keyledger-kms-'));
      custodian = await openOn(kms, dataDir, { pendingWindowDays: 10 });
    });
    afterEach(async () => {
      await custodian.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('creates a KEK as a symmetric KMS key tagged with tenant, key, version and purpose', async () => {
      const kek = await custodian.generateKey(keyRequest({ purpose: 'kek', keyId: 'kek-1', version: 3, tenantId: 'acme' }));

      expect(kek.materialRef).toMatch(/^kms:arn:aws:kms:/);
      expect(kms.mock).toHaveReceivedCommandWith(CreateKeyCommand, {
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        Origin: 'AWS_KMS',
        Tags: [
          { TagKey: 'keyledger:tenant', TagValue: 'acme' },
          { TagKey: 'keyledger:key', TagValue: 'kek-1' },
          { TagKey: 'keyledger:version', TagValue: '3' },
          { TagKey: 'keyledger:purpose', TagValue: 'kek' },
        ],
      });
    });

    it('generates a DEK with GenerateDataKey under its KEK, the context naming tenant, key, version and handle', async () => {
      const kek = await custodian.generateKey(keyRequest({ purpose: 'kek', tenantId: 'acme' }));

      const dek = await custodian.generateKey(keyRequest({ keyId: 'dek-9', version: 2, tenantId: 'acme', wrappingRef: kek.materialRef }));

      expect(kms.mock).toHaveReceivedCommandWith(GenerateDataKeyCommand, {
        KeyId: arnOf(kek.materialRef),
        KeySpec: 'AES_256',
        EncryptionContext: { 'keyledger:tenant': 'acme', 'keyledger:key': 'dek-9', 'keyledger:version': '2', 'keyledger:ref': dek.materialRef },
      });
    });

    it('encrypts with a KEK through KMS Encrypt, the associated data bound by its SHA-256 in the context', async () => {
      const kek = await custodian.generateKey(keyRequest({ purpose: 'kek', keyId: 'kek-2', version: 1, tenantId: 'acme' }));
      const aad = Buffer.from('header+context');

      const sealed = await custodian.encrypt(kek.materialRef, Buffer.from('small payload'), aad);

      expect(kms.mock).toHaveReceivedCommandWith(EncryptCommand, {
        KeyId: arnOf(kek.materialRef),
        EncryptionContext: {
          'keyledger:tenant': 'acme',
          'keyledger:key': 'kek-2',
          'keyledger:version': '1',
          'keyledger:aad-sha256': createHash('sha256').update(aad).digest('hex'),
        },
      });
      expect((await custodian.decrypt(kek.materialRef, sealed, aad)).toString()).toBe('small payload');
      expect(kms.mock).toHaveReceivedCommandWith(DecryptCommand, { KeyId: arnOf(kek.materialRef) });
    });

    it('rewraps a DEK to a new KEK version with ReEncrypt: same context on both sides, no plaintext requested', async () => {
      const oldKek = await custodian.generateKey(keyRequest({ purpose: 'kek', tenantId: 'acme' }));
      const newKek = await custodian.generateKey(keyRequest({ purpose: 'kek', tenantId: 'acme' }));
      const dek = await custodian.generateKey(keyRequest({ keyId: 'dek-r', version: 1, tenantId: 'acme', wrappingRef: oldKek.materialRef }));
      kms.mock.resetHistory();

      await custodian.rewrapMaterial(dek.materialRef, newKek.materialRef);

      const context = { 'keyledger:tenant': 'acme', 'keyledger:key': 'dek-r', 'keyledger:version': '1', 'keyledger:ref': dek.materialRef };
      expect(kms.mock).toHaveReceivedCommandTimes(ReEncryptCommand, 1);
      expect(kms.mock).toHaveReceivedCommandWith(ReEncryptCommand, {
        SourceKeyId: arnOf(oldKek.materialRef),
        DestinationKeyId: arnOf(newKek.materialRef),
        SourceEncryptionContext: context,
        DestinationEncryptionContext: context,
      });
      expect(kms.mock).not.toHaveReceivedCommand(DecryptCommand);
    });

    it('re-encrypts a data-plane ciphertext from one KEK version to the next with ReEncrypt', async () => {
      const v1 = await custodian.generateKey(keyRequest({ purpose: 'kek', tenantId: 'acme', version: 1 }));
      const v2 = await custodian.generateKey(keyRequest({ purpose: 'kek', tenantId: 'acme', version: 2 }));
      const sealed = await custodian.encrypt(v1.materialRef, Buffer.from('x'), Buffer.from('a1'));
      kms.mock.resetHistory();

      await custodian.reencrypt(sealed, { materialRef: v1.materialRef, aad: Buffer.from('a1') }, { materialRef: v2.materialRef, aad: Buffer.from('a2') });

      expect(kms.mock).toHaveReceivedCommandTimes(ReEncryptCommand, 1);
      expect(kms.mock).not.toHaveReceivedCommand(DecryptCommand);
    });

    it('destroys a KEK with ScheduleKeyDeletion and our pending window, and gives DescribeKey PendingDeletion as evidence', async () => {
      const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));

      const evidence = await custodian.destroy(kek.materialRef);

      expect(kms.mock).toHaveReceivedCommandWith(ScheduleKeyDeletionCommand, { KeyId: arnOf(kek.materialRef), PendingWindowInDays: 10 });
      expect(kms.mock).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: arnOf(kek.materialRef) });
      expect(kms.stateOf(arnOf(kek.materialRef))).toBe('PendingDeletion');
      expect(evidence).toMatchObject({ custodian: 'aws-kms', materialRef: kek.materialRef, verifiedAbsent: true });
      expect(evidence.method).toContain('ScheduleKeyDeletion');
      expect(evidence.method).toContain('10 days');
      expect(evidence.verification).toContain('PendingDeletion');
      expect(await custodian.exists(kek.materialRef)).toBe(false);
    });

    it('refuses a pending window outside KMS range at open', async () => {
      await expect(openOn(kms, dataDir, { pendingWindowDays: 3 })).rejects.toThrow(/7 to 30 days/);
    });

    it('imports BYOK material: RSAES_OAEP_SHA_256 under RSA_4096, and the fingerprint is the imported key\'s check value', async () => {
      const kek = await custodian.generateKey(keyRequest({ purpose: 'kek', source: { kind: 'import' } }));
      const arn = arnOf(kek.materialRef);

      expect(kms.mock).toHaveReceivedCommandWith(CreateKeyCommand, { Origin: 'EXTERNAL' });
      expect(kms.mock).toHaveReceivedCommandWith(GetParametersForImportCommand, { KeyId: arn, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_4096' });
      expect(kms.mock).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { KeyId: arn, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
      expect(kek.fingerprint).toBe(keyCheckValue(kms.materialOf(arn)!));
      const sealed = await custodian.encrypt(kek.materialRef, Buffer.from('byok'), Buffer.alloc(0));
      expect((await custodian.decrypt(kek.materialRef, sealed, Buffer.alloc(0))).toString()).toBe('byok');
    });

    it('adopts an existing KMS key by alias (the Bedrock CMK case), recording its ARN', async () => {
      const arn = kms.existingKey('alias/bedrock-cmk');

      const kek = await custodian.generateKey(keyRequest({ purpose: 'kek', source: { kind: 'adopt', externalId: 'alias/bedrock-cmk' } }));

      expect(kek.materialRef).toBe(`kms:${arn}`);
      expect(kms.mock).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: 'alias/bedrock-cmk' });
      expect(kms.mock).not.toHaveReceivedCommand(CreateKeyCommand);
    });

    it('refuses to adopt a disabled key, and an unknown one', async () => {
      kms.existingKey('alias/disabled', 'Disabled');
      await expect(custodian.generateKey(keyRequest({ purpose: 'kek', source: { kind: 'adopt', externalId: 'alias/disabled' } }))).rejects.toBeInstanceOf(
        CustodianKeyStateError,
      );
      await expect(custodian.generateKey(keyRequest({ purpose: 'kek', source: { kind: 'adopt', externalId: 'alias/missing' } }))).rejects.toBeInstanceOf(
        MaterialNotFoundError,
      );
    });

    it('refuses to adopt or import a DEK: a DEK is a data key of its KEK', async () => {
      const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
      const asked = keyRequest({ wrappingRef: kek.materialRef, source: { kind: 'import' } });
      await expect(custodian.generateKey(asked)).rejects.toMatchObject({ code: 'CUSTODY.UNSUPPORTED_KEY_SOURCE' });
    });

    it('never hands out a KMS key', async () => {
      const kek = await custodian.generateKey(keyRequest({ purpose: 'kek' }));
      await expect(custodian.wrapForRecipient(kek.materialRef, makeTestRecipient().publicKeyPem)).rejects.toBeInstanceOf(MaterialNotExtractableError);
    });
  });

  describe('errors', () => {
    let dataDir: string;
    let waits: number[];
    let custodian: AwsKmsCustodian;
    let kekRef: string;

    beforeEach(async () => {
      kms.install();
      kms.existingKey(STORAGE_ALIAS);
      dataDir = mkdtempSync(join(tmpdir(), 'keyledger-kms-'));
      waits = [];
      custodian = await openOn(kms, dataDir, {
        retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 250 },
        wait: async (ms) => waits.push(ms),
      });
      kekRef = (await custodian.generateKey(keyRequest({ purpose: 'kek' }))).materialRef;
      kms.mock.resetHistory();
    });
    afterEach(async () => {
      await custodian.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('retries throttling with growing, bounded backoff, then succeeds', async () => {
      kms.mock
        .on(EncryptCommand)
        .rejectsOnce(kmsError('ThrottlingException', 'Rate exceeded'))
        .rejectsOnce(kmsError('ThrottlingException', 'Rate exceeded'))
        .resolves({ CiphertextBlob: Buffer.from('sealed') });

      const sealed = await custodian.encrypt(kekRef, Buffer.from('x'), Buffer.alloc(0));

      expect(sealed.toString()).toBe('sealed');
      expect(kms.mock).toHaveReceivedCommandTimes(EncryptCommand, 3);
      expect(waits).toHaveLength(2);
      expect(waits[0]).toBeLessThanOrEqual(100);
      expect(waits[1]).toBeLessThanOrEqual(200);
    });

    it('gives up after the bounded attempts with CustodianUnavailableError (503)', async () => {
      kms.mock.on(EncryptCommand).rejects(kmsError('ThrottlingException', 'Rate exceeded'));

      const error = await custodian.encrypt(kekRef, Buffer.from('x'), Buffer.alloc(0)).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(CustodianUnavailableError);
      expect((error as CustodianUnavailableError).code).toBe('CUSTODY.UNAVAILABLE');
      expect(kms.mock).toHaveReceivedCommandTimes(EncryptCommand, 4);
      expect(waits.every((ms) => ms <= 250)).toBe(true);
    });

    it.each([
      ['AccessDeniedException', CustodianAccessDeniedError, 'CUSTODY.ACCESS_DENIED'],
      ['KMSInvalidStateException', CustodianKeyStateError, 'CUSTODY.INVALID_KEY_STATE'],
      ['DisabledException', CustodianKeyStateError, 'CUSTODY.INVALID_KEY_STATE'],
      ['NotFoundException', MaterialNotFoundError, 'CUSTODY.MATERIAL_NOT_FOUND'],
      ['InvalidCiphertextException', DecryptionFailedError, 'CUSTODY.DECRYPTION_FAILED'],
    ])('maps %s to our typed error at once, without retrying', async (name, type, code) => {
      kms.mock.on(DecryptCommand).rejects(kmsError(name, `${name}: the request for secret-looking-value failed`));

      const error = await custodian.decrypt(kekRef, Buffer.from('blob'), Buffer.alloc(0)).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(type);
      expect((error as { code: string }).code).toBe(code);
      expect(String((error as Error).message)).not.toContain('secret-looking-value');
      expect(kms.mock).toHaveReceivedCommandTimes(DecryptCommand, 1);
      expect(waits).toEqual([]);
    });

    it('makes a destroyed KEK unusable: KMS refuses it, and so do we before asking', async () => {
      const sealed = await custodian.encrypt(kekRef, Buffer.from('x'), Buffer.alloc(0));
      await custodian.destroy(kekRef);
      kms.mock.resetHistory();

      await expect(custodian.decrypt(kekRef, sealed, Buffer.alloc(0))).rejects.toBeInstanceOf(MaterialNotFoundError);
      expect(kms.mock).not.toHaveReceivedCommand(DecryptCommand);
    });

    it('completes a destroy interrupted after ScheduleKeyDeletion: finds the key pending deletion and verifies it', async () => {
      const arn = kekRef.slice('kms:'.length);
      await new KMSClient({ region: 'us-east-1' }).send(new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: 7 }));

      const evidence = await custodian.destroy(kekRef);

      expect(evidence).toMatchObject({ materialRef: kekRef, verifiedAbsent: true });
      expect(evidence.verification).toContain('PendingDeletion');
      expect(kms.mock).toHaveReceivedCommandTimes(ScheduleKeyDeletionCommand, 2);
      expect(await custodian.exists(kekRef)).toBe(false);
    });
  });
});
