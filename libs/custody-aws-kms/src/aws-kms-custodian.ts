/**
 * The AWS KMS custodian. KEKs (and roots) are KMS keys: created, adopted by ARN or alias (a
 * Bedrock CMK, say), or created with imported material (BYOK). Their material never leaves KMS.
 * DEKs come from GenerateDataKey under their KEK and are kept outside KMS as the CiphertextBlob;
 * a KEK rotation moves them with ReEncrypt. Every call names an encryption context with tenant,
 * key and version, so that a blob cannot be replayed under another identity. This is the only
 * module that imports @aws-sdk/client-kms.
 */
import { Buffer } from 'node:buffer';
import { constants, createHash, createPublicKey, publicEncrypt, randomBytes, randomUUID } from 'node:crypto';
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
  type CreateKeyCommandOutput,
  type DecryptCommandOutput,
  type DescribeKeyCommandOutput,
  type EncryptCommandOutput,
  type GenerateDataKeyCommandOutput,
  type GetParametersForImportCommandOutput,
  type KeyMetadata,
  type ReEncryptCommandOutput,
  type ScheduleKeyDeletionCommandOutput,
} from '@aws-sdk/client-kms';
import {
  CustodianKeyStateError,
  CustodyOperationError,
  DecryptionFailedError,
  MaterialCache,
  MaterialNotExtractableError,
  MaterialNotFoundError,
  NO_MATERIAL_CACHE,
  UnsupportedKeySourceError,
  assertMayWrap,
  keyCheckValue,
  openAesGcm,
  parseRecipientPublicKey,
  reencryptThroughMemory,
  sealAesGcm,
  type CustodianHealth,
  type CustodyEvidence,
  type CustodyLogger,
  type DataKey,
  type GeneratedKey,
  type GenerateKeyRequest,
  type KeyCustodian,
  type MaterialCacheOptions,
  type MaterialRow,
  type MaterialStore,
  type RewrapOutcome,
  type SealingKey,
} from '@keyledger/custody';
import { DEFAULT_RETRY, KmsCalls, type RetryPolicy } from './kms-calls.js';

export interface AwsKmsCustodianOptions {
  /** A configured client; built from `endpoint` (KEYLEDGER_AWS_KMS_ENDPOINT) and the SDK's usual region and credentials otherwise. */
  readonly client?: KMSClient;
  readonly endpoint?: string;
  /** Where DEK blobs and the owners of KMS keys are recorded. */
  readonly materialStore: MaterialStore;
  /** KMS's own pending window when a key is destroyed (7–30 days; keyledger's waiting period has already passed). */
  readonly pendingWindowDays?: number;
  /** A KMS key (ARN or alias) for DEKs generated without a KEK; without it such DEKs are refused. */
  readonly storageKeyId?: string;
  readonly retry?: RetryPolicy;
  readonly cache?: MaterialCacheOptions;
  readonly logger?: CustodyLogger;
  /** For tests: how to wait between retries. */
  readonly wait?: (ms: number) => Promise<unknown>;
}

const KMS_PREFIX = 'kms:';
const DEK_PREFIX = 'kms-dek:';
const KMS_PENDING_WINDOW = { min: 7, max: 30 };
const isKmsKey = (ref: string): boolean => ref.startsWith(KMS_PREFIX);
const arnOf = (ref: string): string => ref.slice(KMS_PREFIX.length);

const HEALTH: CustodianHealth = Object.freeze({
  custodian: 'aws-kms',
  // AWS KMS HSMs are validated under FIPS 140-3 (level 3); the validation is AWS's, per region.
  fipsValidated: true,
  label: 'AWS KMS (KEKs are KMS keys; FIPS 140-3 validated HSMs operated by AWS)',
});

/** The context every KMS call carries: tenant, key and version, plus what it protects. */
type EncryptionContext = Record<string, string>;

const ownerContext = (row: Pick<MaterialRow, 'tenantId' | 'keyId' | 'version'>): EncryptionContext => ({
  'keyledger:tenant': row.tenantId,
  'keyledger:key': row.keyId,
  'keyledger:version': String(row.version),
});

/** A DEK's blob is bound to its own identity (and row), whatever KEK seals it. */
const dekContext = (row: MaterialRow): EncryptionContext => ({ ...ownerContext(row), 'keyledger:ref': row.ref });

/** Data protected directly by a KMS key: the caller's associated data enters as its SHA-256. */
const dataContext = (kek: MaterialRow, aad: Buffer): EncryptionContext => ({
  ...ownerContext(kek),
  'keyledger:aad-sha256': createHash('sha256').update(aad).digest('hex'),
});

export class AwsKmsCustodian implements KeyCustodian {
  readonly kind = 'aws-kms' as const;

  private constructor(
    private readonly kms: KmsCalls,
    private readonly client: KMSClient,
    private readonly store: MaterialStore,
    private readonly cache: MaterialCache,
    private readonly pendingWindowDays: number,
    private readonly storageKeyId: string | undefined,
    private readonly logger: CustodyLogger | undefined,
  ) {}

  static async open(options: AwsKmsCustodianOptions): Promise<AwsKmsCustodian> {
    const pendingWindowDays = options.pendingWindowDays ?? KMS_PENDING_WINDOW.min;
    if (pendingWindowDays < KMS_PENDING_WINDOW.min || pendingWindowDays > KMS_PENDING_WINDOW.max) {
      throw new CustodyOperationError(`The KMS pending window must be 7 to 30 days, got ${pendingWindowDays}`);
    }
    // Our retry policy is the one in force (and tested): the SDK's own retries are turned off.
    const client = options.client ?? new KMSClient({ maxAttempts: 1, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
    const kms = new KmsCalls(client, options.retry ?? DEFAULT_RETRY, options.wait);
    const cache = new MaterialCache(options.cache ?? NO_MATERIAL_CACHE);
    options.logger?.log(`Opened ${HEALTH.label}${options.endpoint ? ` at ${options.endpoint}` : ''}`);
    return new AwsKmsCustodian(kms, client, options.materialStore, cache, pendingWindowDays, options.storageKeyId, options.logger);
  }

  health(): CustodianHealth {
    return HEALTH;
  }

  async generateKey(request: GenerateKeyRequest): Promise<GeneratedKey> {
    const source = request.source ?? { kind: 'generate' };
    if (request.purpose === 'dek') {
      // A DEK is always a data key of its KEK: there is no KMS key to adopt or import for it.
      if (source.kind !== 'generate') throw new UnsupportedKeySourceError('aws-kms', `${source.kind} for a dek`);
      return this.generateDek(request);
    }
    switch (source.kind) {
      case 'generate':
        return this.createKmsKey(request, 'AWS_KMS');
      case 'import':
        return this.createKmsKey(request, 'EXTERNAL');
      case 'adopt':
        return this.adoptKmsKey(request, source.externalId);
      default: {
        const _exhaustive: never = source;
        throw new CustodyOperationError(`Unknown key source ${JSON.stringify(_exhaustive)}`);
      }
    }
  }

  async wrapForRecipient(materialRef: string, recipientPublicKeyPem: string): Promise<Buffer> {
    const recipientKey = parseRecipientPublicKey(recipientPublicKeyPem);
    const row = await this.rowOf(materialRef);
    if (isKmsKey(row.ref)) throw new MaterialNotExtractableError(materialRef);
    return this.withDek(row, (key) => publicEncrypt({ key: recipientKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, key));
  }

  async encrypt(materialRef: string, plaintext: Buffer, aad: Buffer): Promise<Buffer> {
    const row = await this.rowOf(materialRef);
    if (!isKmsKey(row.ref)) return this.withDek(row, (key) => sealAesGcm(key, plaintext, aad));
    const answer = await this.kms.send<EncryptCommandOutput>(
      'Encrypt',
      new EncryptCommand({ KeyId: arnOf(row.ref), Plaintext: plaintext, EncryptionContext: dataContext(row, aad) }),
      materialRef,
    );
    return Buffer.from(required(answer.CiphertextBlob, 'Encrypt', 'CiphertextBlob'));
  }

  async decrypt(materialRef: string, ciphertext: Buffer, aad: Buffer): Promise<Buffer> {
    const row = await this.rowOf(materialRef);
    if (!isKmsKey(row.ref)) {
      const plaintext = await this.withDek(row, (key) => openAesGcm(key, ciphertext, aad));
      if (plaintext === null) throw new DecryptionFailedError(materialRef);
      return plaintext;
    }
    const answer = await this.kms.send<DecryptCommandOutput>(
      'Decrypt',
      new DecryptCommand({ KeyId: arnOf(row.ref), CiphertextBlob: ciphertext, EncryptionContext: dataContext(row, aad) }),
      materialRef,
    );
    return Buffer.from(required(answer.Plaintext, 'Decrypt', 'Plaintext'));
  }

  async generateDataKey(materialRef: string, aad: Buffer): Promise<DataKey> {
    const row = await this.rowOf(materialRef);
    if (!isKmsKey(row.ref)) {
      const plaintext = randomBytes(32);
      return { plaintext, sealed: await this.withDek(row, (key) => sealAesGcm(key, plaintext, aad)) };
    }
    const answer = await this.kms.send<GenerateDataKeyCommandOutput>(
      'GenerateDataKey',
      new GenerateDataKeyCommand({ KeyId: arnOf(row.ref), KeySpec: 'AES_256', EncryptionContext: dataContext(row, aad) }),
      materialRef,
    );
    return {
      plaintext: Buffer.from(required(answer.Plaintext, 'GenerateDataKey', 'Plaintext')),
      sealed: Buffer.from(required(answer.CiphertextBlob, 'GenerateDataKey', 'CiphertextBlob')),
    };
  }

  /** Between two KMS keys, ReEncrypt: the plaintext stays inside KMS. */
  async reencrypt(ciphertext: Buffer, from: SealingKey, to: SealingKey): Promise<Buffer> {
    const [source, destination] = await Promise.all([this.rowOf(from.materialRef), this.rowOf(to.materialRef)]);
    if (!isKmsKey(source.ref) || !isKmsKey(destination.ref)) return reencryptThroughMemory(this, ciphertext, from, to);
    return this.reEncrypt(ciphertext, source.ref, dataContext(source, from.aad), destination.ref, dataContext(destination, to.aad), from.materialRef);
  }

  async rewrapMaterial(materialRef: string, newWrappingRef: string): Promise<RewrapOutcome> {
    const row = await this.rowOf(materialRef);
    const outcome = { materialRef, wrappingRef: newWrappingRef };
    if (row.wrappingRef === newWrappingRef) return { ...outcome, changed: false };
    const target = await this.rowOf(newWrappingRef);
    assertMayWrap(row, target);
    if (isKmsKey(row.ref)) return this.recordNewParent(row, newWrappingRef);
    if (!isKmsKey(target.ref)) throw new CustodyOperationError(`Only a KMS key can wrap a DEK, not ${newWrappingRef}`);
    const source = this.dekWrapperRef(row);
    const blob = await this.reEncrypt(row.wrapped, source, dekContext(row), target.ref, dekContext(row), materialRef);
    if (!(await this.store.replaceWrapping(materialRef, blob, newWrappingRef, row.wrappingRef))) {
      if ((await this.rowOf(materialRef)).wrappingRef !== newWrappingRef) {
        throw new CustodyOperationError(`Key material ${materialRef} was rewrapped concurrently`);
      }
      return { ...outcome, changed: false };
    }
    this.cache.evict(materialRef);
    return { ...outcome, changed: true };
  }

  async wrappingOf(materialRef: string): Promise<string | null | undefined> {
    return (await this.store.find(materialRef))?.wrappingRef;
  }

  async destroy(materialRef: string): Promise<CustodyEvidence> {
    this.cache.clear();
    const row = await this.store.find(materialRef);
    if (row !== undefined && isKmsKey(row.ref)) return this.scheduleDeletion(row);
    await this.store.erase(materialRef);
    if (await this.store.has(materialRef)) throw new CustodyOperationError(`DEK blob ${materialRef} is still present after erasure`);
    return {
      custodian: 'aws-kms',
      materialRef,
      method: 'DEK blob (KMS CiphertextBlob) erased from the key-material store',
      verifiedAbsent: true,
      verification: 'SELECT by ref found no row',
    };
  }

  async exists(materialRef: string): Promise<boolean> {
    return this.store.has(materialRef);
  }

  async close(): Promise<void> {
    this.cache.close();
    await this.store.close();
    this.client.destroy();
  }

  // ---- KMS keys ----

  private async createKmsKey(request: GenerateKeyRequest, origin: 'AWS_KMS' | 'EXTERNAL'): Promise<GeneratedKey> {
    await this.checkParent(request);
    const created = await this.kms.send<CreateKeyCommandOutput>(
      'CreateKey',
      new CreateKeyCommand({
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        Origin: origin,
        Description: `keyledger ${request.purpose} ${request.keyId} version ${request.version} (tenant ${request.tenantId})`,
        Tags: Object.entries({ ...ownerContext(request), 'keyledger:purpose': request.purpose }).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
      }),
    );
    const arn = required(created.KeyMetadata?.Arn, 'CreateKey', 'KeyMetadata.Arn');
    const fingerprint = origin === 'EXTERNAL' ? await this.importMaterial(arn) : identityFingerprint(arn);
    await this.recordKmsKey(request, arn);
    this.logger?.log(`Created KMS key ${arn} (${origin === 'EXTERNAL' ? 'imported material' : 'generated by KMS'})`);
    return { materialRef: `${KMS_PREFIX}${arn}`, fingerprint };
  }

  /**
   * BYOK: material generated here, wrapped with RSAES-OAEP-SHA-256 under KMS's import key, and
   * imported; only its check value stays. The plaintext is zeroed as soon as it is wrapped.
   */
  private async importMaterial(arn: string): Promise<string> {
    const parameters = await this.kms.send<GetParametersForImportCommandOutput>(
      'GetParametersForImport',
      new GetParametersForImportCommand({ KeyId: arn, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_4096' }),
    );
    const wrappingKey = createPublicKey({ key: Buffer.from(required(parameters.PublicKey, 'GetParametersForImport', 'PublicKey')), format: 'der', type: 'spki' });
    const material = randomBytes(32);
    try {
      const encrypted = publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);
      await this.kms.send(
        'ImportKeyMaterial',
        new ImportKeyMaterialCommand({
          KeyId: arn,
          ImportToken: required(parameters.ImportToken, 'GetParametersForImport', 'ImportToken'),
          EncryptedKeyMaterial: encrypted,
          ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
        }),
      );
      return keyCheckValue(material);
    } finally {
      material.fill(0);
    }
  }

  /** An existing KMS key becomes the key's material (e.g. the CMK a vendor integration already uses). */
  private async adoptKmsKey(request: GenerateKeyRequest, externalId: string): Promise<GeneratedKey> {
    await this.checkParent(request);
    const metadata = await this.describe(externalId);
    if (metadata.KeyState !== 'Enabled' || metadata.KeySpec !== 'SYMMETRIC_DEFAULT' || metadata.KeyUsage !== 'ENCRYPT_DECRYPT') {
      throw new CustodianKeyStateError(
        externalId,
        `KMS key ${externalId} cannot be adopted: it must be an enabled SYMMETRIC_DEFAULT key for ENCRYPT_DECRYPT (it is ${metadata.KeyState} ${metadata.KeySpec} ${metadata.KeyUsage})`,
      );
    }
    const arn = required(metadata.Arn, 'DescribeKey', 'KeyMetadata.Arn');
    await this.recordKmsKey(request, arn);
    return { materialRef: `${KMS_PREFIX}${arn}`, fingerprint: identityFingerprint(arn) };
  }

  private async recordKmsKey(request: GenerateKeyRequest, arn: string): Promise<void> {
    await this.store.insert({
      ref: `${KMS_PREFIX}${arn}`,
      wrapped: Buffer.alloc(0),
      wrappingRef: request.wrappingRef,
      keyId: request.keyId,
      version: request.version,
      tenantId: request.tenantId,
      purpose: request.purpose,
      createdAt: new Date().toISOString(),
    });
  }

  /**
   * KMS deletes material only after a pending window (7–30 days), during which the key refuses
   * every cryptographic operation. Evidence: the ScheduleKeyDeletion answer and a DescribeKey
   * that shows PendingDeletion. A second call finds the key already pending and verifies again.
   */
  private async scheduleDeletion(row: MaterialRow): Promise<CustodyEvidence> {
    const arn = arnOf(row.ref);
    let scheduled: ScheduleKeyDeletionCommandOutput | null = null;
    try {
      scheduled = await this.kms.send<ScheduleKeyDeletionCommandOutput>(
        'ScheduleKeyDeletion',
        new ScheduleKeyDeletionCommand({ KeyId: arn, PendingWindowInDays: this.pendingWindowDays }),
        row.ref,
      );
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'CUSTODY.INVALID_KEY_STATE') throw error;
    }
    const state = (await this.describe(arn)).KeyState;
    if (state !== 'PendingDeletion') throw new CustodyOperationError(`KMS key ${arn} is ${state} after ScheduleKeyDeletion, not PendingDeletion`);
    await this.store.erase(row.ref);
    const deletionDate = scheduled?.DeletionDate?.toISOString() ?? 'the date KMS set earlier';
    this.logger?.log(`Scheduled deletion of KMS key ${arn} for ${deletionDate}`);
    return {
      custodian: 'aws-kms',
      materialRef: row.ref,
      method: `ScheduleKeyDeletion of ${arn} with a pending window of ${scheduled?.PendingWindowInDays ?? this.pendingWindowDays} days (deletion on ${deletionDate})`,
      verifiedAbsent: true,
      verification: `DescribeKey reports KeyState PendingDeletion: KMS refuses every cryptographic operation with the key and deletes its material on ${deletionDate}`,
    };
  }

  private async describe(keyId: string): Promise<KeyMetadata> {
    const described = await this.kms.send<DescribeKeyCommandOutput>('DescribeKey', new DescribeKeyCommand({ KeyId: keyId }), keyId);
    return required(described.KeyMetadata, 'DescribeKey', 'KeyMetadata');
  }

  /** A KMS key under a root records the relation: KMS itself protects the key's material. */
  private async recordNewParent(row: MaterialRow, newWrappingRef: string): Promise<RewrapOutcome> {
    const changed = await this.store.replaceWrapping(row.ref, row.wrapped, newWrappingRef, row.wrappingRef);
    return { materialRef: row.ref, wrappingRef: newWrappingRef, changed };
  }

  private async checkParent(request: GenerateKeyRequest): Promise<void> {
    if (request.wrappingRef === null) return;
    assertMayWrap({ ref: `${request.keyId}#${request.version}`, tenantId: request.tenantId }, await this.rowOf(request.wrappingRef));
  }

  // ---- DEKs ----

  private async generateDek(request: GenerateKeyRequest): Promise<GeneratedKey> {
    const ref = `${DEK_PREFIX}${randomUUID()}`;
    const wrapper = await this.dekParent(request, ref);
    const row: MaterialRow = {
      ref,
      wrapped: Buffer.alloc(0),
      wrappingRef: request.wrappingRef,
      keyId: request.keyId,
      version: request.version,
      tenantId: request.tenantId,
      purpose: 'dek',
      createdAt: new Date().toISOString(),
    };
    const answer = await this.kms.send<GenerateDataKeyCommandOutput>(
      'GenerateDataKey',
      new GenerateDataKeyCommand({ KeyId: wrapper, KeySpec: 'AES_256', EncryptionContext: dekContext(row) }),
      request.wrappingRef ?? undefined,
    );
    const plaintext = Buffer.from(required(answer.Plaintext, 'GenerateDataKey', 'Plaintext'));
    try {
      await this.store.insert({ ...row, wrapped: Buffer.from(required(answer.CiphertextBlob, 'GenerateDataKey', 'CiphertextBlob')) });
      return { materialRef: ref, fingerprint: keyCheckValue(plaintext) };
    } finally {
      plaintext.fill(0);
    }
  }

  /** The KMS key id a new DEK is generated under: its KEK's, or the storage key for a DEK without one. */
  private async dekParent(request: GenerateKeyRequest, ref: string): Promise<string> {
    if (request.wrappingRef === null) {
      if (this.storageKeyId === undefined) throw new CustodyOperationError('With AWS KMS a DEK needs a KEK (a KMS key) to wrap it');
      return this.storageKeyId;
    }
    const parent = await this.rowOf(request.wrappingRef);
    assertMayWrap({ ref, tenantId: request.tenantId }, parent);
    if (!isKmsKey(parent.ref)) throw new CustodyOperationError(`Only a KMS key can wrap a DEK, not ${parent.ref}`);
    return arnOf(parent.ref);
  }

  private dekWrapperRef(row: MaterialRow): string {
    if (row.wrappingRef !== null) return row.wrappingRef;
    if (this.storageKeyId === undefined) throw new CustodyOperationError(`DEK ${row.ref} has no KEK and no storage key is configured`);
    return `${KMS_PREFIX}${this.storageKeyId}`;
  }

  private async withDek<T>(row: MaterialRow, use: (key: Buffer) => T): Promise<T> {
    const cached = this.cache.use(row.ref, use);
    if (cached.hit) return cached.value;
    const answer = await this.kms.send<DecryptCommandOutput>(
      'Decrypt',
      new DecryptCommand({ KeyId: arnOf(this.dekWrapperRef(row)), CiphertextBlob: row.wrapped, EncryptionContext: dekContext(row) }),
      row.wrappingRef ?? row.ref,
    );
    const key = Buffer.from(required(answer.Plaintext, 'Decrypt', 'Plaintext'));
    try {
      return use(key);
    } finally {
      this.cache.put(row.ref, key);
    }
  }

  private async reEncrypt(
    blob: Buffer,
    sourceRef: string,
    sourceContext: EncryptionContext,
    destinationRef: string,
    destinationContext: EncryptionContext,
    materialRef: string,
  ): Promise<Buffer> {
    const answer = await this.kms.send<ReEncryptCommandOutput>(
      'ReEncrypt',
      new ReEncryptCommand({
        CiphertextBlob: blob,
        SourceKeyId: arnOf(sourceRef),
        SourceEncryptionContext: sourceContext,
        DestinationKeyId: arnOf(destinationRef),
        DestinationEncryptionContext: destinationContext,
      }),
      materialRef,
    );
    return Buffer.from(required(answer.CiphertextBlob, 'ReEncrypt', 'CiphertextBlob'));
  }

  private async rowOf(ref: string): Promise<MaterialRow> {
    const row = await this.store.find(ref);
    if (row === undefined) throw new MaterialNotFoundError(ref);
    return row;
  }
}

/**
 * KMS never reveals a key's material, so a KMS key's fingerprint identifies the key rather than
 * checking its material: the first 16 bytes of SHA-256 over a label and the key's ARN.
 */
function identityFingerprint(arn: string): string {
  return createHash('sha256').update(`keyledger/kms-key-identity/v1:${arn}`).digest().subarray(0, 16).toString('hex');
}

function required<T>(value: T | undefined | null, operation: string, field: string): T {
  if (value === undefined || value === null) throw new CustodyOperationError(`AWS KMS ${operation} answered without ${field}`);
  return value;
}
