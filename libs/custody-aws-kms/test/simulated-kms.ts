import { Buffer } from 'node:buffer';
import { constants, createCipheriv, createDecipheriv, generateKeyPairSync, privateDecrypt, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
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
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

/** An error shaped as the SDK raises KMS's: what the adapter sees from a real service. */
export const kmsError = (name: string, message = name): Error => Object.assign(new Error(message), { name, $fault: 'client', $metadata: {} });

interface SimulatedKey {
  readonly arn: string;
  material: Buffer | null;
  state: 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport';
  readonly origin: 'AWS_KMS' | 'EXTERNAL';
  importKey?: KeyObject;
  deletionDate?: Date;
  pendingWindowInDays?: number;
}

const REGION_ACCOUNT = 'us-east-1:111122223333';

/**
 * A small AWS KMS stand-in behind aws-sdk-client-mock, faithful where the adapter depends on it:
 * symmetric keys with AES-256-GCM blobs that name their key and bind the encryption context,
 * key states (a key pending deletion refuses every cryptographic call), aliases, BYOK import
 * with RSAES_OAEP_SHA_256, and KMS's error names. It is not KMS: the contract suite run against
 * it checks the adapter's logic, not the service.
 */
export class SimulatedKms {
  readonly mock: AwsClientStub<KMSClient>;
  private readonly keys = new Map<string, SimulatedKey>();
  private readonly aliases = new Map<string, string>();

  constructor() {
    this.mock = mockClient(KMSClient);
    this.install();
  }

  /** Re-installs the simulation after a test replaced some behaviour (mock.on(...).rejects...). */
  install(): void {
    this.mock.reset();
    this.mock.on(CreateKeyCommand).callsFake((input) => this.createKey(input));
    this.mock.on(DescribeKeyCommand).callsFake((input) => ({ KeyMetadata: this.metadata(this.resolve(input.KeyId)) }));
    this.mock.on(EncryptCommand).callsFake((input) => ({ CiphertextBlob: this.seal(this.usable(input.KeyId), input.Plaintext, input.EncryptionContext), KeyId: this.resolve(input.KeyId).arn }));
    this.mock.on(DecryptCommand).callsFake((input) => this.decrypt(input));
    this.mock.on(GenerateDataKeyCommand).callsFake((input) => {
      const plaintext = randomBytes(32);
      return { Plaintext: plaintext, CiphertextBlob: this.seal(this.usable(input.KeyId), plaintext, input.EncryptionContext), KeyId: this.resolve(input.KeyId).arn };
    });
    this.mock.on(ReEncryptCommand).callsFake((input) => {
      const { Plaintext } = this.decrypt({ CiphertextBlob: input.CiphertextBlob, KeyId: input.SourceKeyId, EncryptionContext: input.SourceEncryptionContext });
      return { CiphertextBlob: this.seal(this.usable(input.DestinationKeyId), Plaintext, input.DestinationEncryptionContext) };
    });
    this.mock.on(ScheduleKeyDeletionCommand).callsFake((input) => this.scheduleDeletion(input));
    this.mock.on(GetParametersForImportCommand).callsFake((input) => this.importParameters(input));
    this.mock.on(ImportKeyMaterialCommand).callsFake((input) => this.importMaterial(input));
  }

  restore(): void {
    this.mock.restore();
  }

  /** An existing key, as an operator would have created it outside keyledger (e.g. a Bedrock CMK). */
  existingKey(alias: string, state: SimulatedKey['state'] = 'Enabled'): string {
    const arn = this.newKey('AWS_KMS', randomBytes(32)).arn;
    this.keys.get(arn)!.state = state;
    this.aliases.set(alias, arn);
    return arn;
  }

  stateOf(arn: string): SimulatedKey['state'] | undefined {
    return this.keys.get(arn)?.state;
  }

  /** The material of a key: only a test may look, to check what BYOK imported. */
  materialOf(arn: string): Buffer | null {
    return this.keys.get(arn)?.material ?? null;
  }

  private createKey(input: { Origin?: string }) {
    const origin = input.Origin === 'EXTERNAL' ? 'EXTERNAL' : 'AWS_KMS';
    const key = this.newKey(origin, origin === 'EXTERNAL' ? null : randomBytes(32));
    return { KeyMetadata: this.metadata(key) };
  }

  private newKey(origin: SimulatedKey['origin'], material: Buffer | null): SimulatedKey {
    const arn = `arn:aws:kms:${REGION_ACCOUNT}:key/${randomUUID()}`;
    const key: SimulatedKey = { arn, material, state: material ? 'Enabled' : 'PendingImport', origin };
    this.keys.set(arn, key);
    return key;
  }

  private metadata(key: SimulatedKey) {
    return {
      Arn: key.arn,
      KeyId: key.arn.split('/').pop(),
      KeyState: key.state,
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Origin: key.origin,
      ...(key.deletionDate ? { DeletionDate: key.deletionDate, PendingDeletionWindowInDays: key.pendingWindowInDays } : {}),
    };
  }

  private resolve(keyId: string | undefined): SimulatedKey {
    const arn = keyId?.startsWith('alias/') ? this.aliases.get(keyId) : keyId;
    const key = arn === undefined ? undefined : this.keys.get(arn);
    if (key === undefined) throw kmsError('NotFoundException', `Key '${keyId}' does not exist`);
    return key;
  }

  private usable(keyId: string | undefined): SimulatedKey {
    const key = this.resolve(keyId);
    if (key.state === 'Disabled') throw kmsError('DisabledException', `${key.arn} is disabled.`);
    if (key.state !== 'Enabled') throw kmsError('KMSInvalidStateException', `${key.arn} is pending ${key.state === 'PendingImport' ? 'import' : 'deletion'}.`);
    return key;
  }

  /** Blob: uint16 length, ARN, IV, ciphertext, tag; the canonical context is the associated data. */
  private seal(key: SimulatedKey, plaintext: Uint8Array, context: Record<string, string> | undefined): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.material!, iv);
    cipher.setAAD(contextBytes(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const arn = Buffer.from(key.arn);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(arn.length);
    return Buffer.concat([length, arn, iv, body, cipher.getAuthTag()]);
  }

  private decrypt(input: { CiphertextBlob?: Uint8Array; KeyId?: string; EncryptionContext?: Record<string, string> }) {
    const blob = Buffer.from(input.CiphertextBlob ?? []);
    if (blob.length < 2 + 12 + 16) throw kmsError('InvalidCiphertextException');
    const arnLength = blob.readUInt16BE(0);
    const arn = blob.subarray(2, 2 + arnLength).toString();
    if (input.KeyId !== undefined && this.resolve(input.KeyId).arn !== arn) throw kmsError('IncorrectKeyException');
    const key = this.usable(arn);
    const iv = blob.subarray(2 + arnLength, 14 + arnLength);
    const body = blob.subarray(14 + arnLength, blob.length - 16);
    const decipher = createDecipheriv('aes-256-gcm', key.material!, iv);
    decipher.setAAD(contextBytes(input.EncryptionContext));
    decipher.setAuthTag(blob.subarray(blob.length - 16));
    try {
      return { Plaintext: Buffer.concat([decipher.update(body), decipher.final()]), KeyId: arn };
    } catch {
      throw kmsError('InvalidCiphertextException');
    }
  }

  private scheduleDeletion(input: { KeyId?: string; PendingWindowInDays?: number }) {
    const key = this.resolve(input.KeyId);
    if (key.state === 'PendingDeletion') throw kmsError('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    const days = input.PendingWindowInDays ?? 30;
    if (days < 7 || days > 30) throw kmsError('ValidationException');
    key.state = 'PendingDeletion';
    key.deletionDate = new Date(Date.now() + days * 86_400_000);
    key.pendingWindowInDays = days;
    return { KeyId: key.arn, DeletionDate: key.deletionDate, KeyState: 'PendingDeletion', PendingWindowInDays: days };
  }

  private importParameters(input: { KeyId?: string; WrappingAlgorithm?: string; WrappingKeySpec?: string }) {
    const key = this.resolve(input.KeyId);
    if (key.origin !== 'EXTERNAL') throw kmsError('UnsupportedOperationException');
    const pair = generateKeyPairSync('rsa', { modulusLength: 4096 });
    key.importKey = pair.privateKey;
    return { KeyId: key.arn, ImportToken: Buffer.from(`token:${key.arn}`), PublicKey: pair.publicKey.export({ type: 'spki', format: 'der' }) };
  }

  private importMaterial(input: { KeyId?: string; ImportToken?: Uint8Array; EncryptedKeyMaterial?: Uint8Array }) {
    const key = this.resolve(input.KeyId);
    if (!key.importKey || Buffer.from(input.ImportToken ?? []).toString() !== `token:${key.arn}`) throw kmsError('InvalidImportTokenException');
    key.material = privateDecrypt({ key: key.importKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(input.EncryptedKeyMaterial ?? []));
    key.state = 'Enabled';
    return {};
  }
}

function contextBytes(context: Record<string, string> | undefined): Buffer {
  const sorted = Object.keys(context ?? {}).sort().map((k) => [k, context![k]]);
  return Buffer.from(JSON.stringify(sorted));
}
