/**
 * The embedded default custodian: AES-256 in node:crypto, material sealed in a SQLite store under
 * a root key file. It is honest about what it is: NOT a FIPS 140-3 validated module.
 */
import { Buffer } from 'node:buffer';
import { constants, publicEncrypt, randomBytes, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { keyCheckValue } from '../key-check-value.js';
import {
  CustodyOperationError,
  DecryptionFailedError,
  MaterialNotFoundError,
  type CustodianHealth,
  type CustodyEvidence,
  type CustodyLogger,
  type GeneratedKey,
  type GenerateKeyRequest,
  type KeyCustodian,
} from '../port.js';
import { parseRecipientPublicKey } from '../recipient-key.js';
import { openAesGcm, sealAesGcm } from './aes-gcm.js';
import { MaterialStore } from './material-store.js';
import { loadOrCreateRootKey } from './root-key-file.js';

export const ROOT_KEY_FILE = 'root.key';
export const MATERIAL_DB_FILE = 'key-material.db';
const KEY_BYTES = 32;

export interface SoftwareCustodianOptions {
  readonly dataDir: string;
  readonly logger?: CustodyLogger;
}

const HEALTH: CustodianHealth = Object.freeze({
  custodian: 'software',
  fipsValidated: false,
  label: 'software custodian (node:crypto AES-256) — NOT FIPS 140-3 validated',
});

/**
 * Material at rest is sealed with AES-256-GCM, the row's ref bound as associated data, rather
 * than with RFC 5649 key wrap: KWP's fixed IV authenticates the material but binds it to nothing,
 * so a wrapped blob copied into another row under the same wrapping key would unwrap cleanly.
 * With the ref as AAD such a swap fails. Random 96-bit IVs are safe at this volume (each wrapping
 * key seals far fewer than 2^32 keys).
 */
function materialAad(ref: string): Buffer {
  return Buffer.from(`keyledger/software-material/v1:${ref}`, 'utf8');
}

export class SoftwareCustodian implements KeyCustodian {
  readonly kind = 'software' as const;

  private constructor(
    private readonly rootKey: Buffer,
    private readonly store: MaterialStore,
    private readonly logger: CustodyLogger | undefined,
  ) {}

  static async open({ dataDir, logger }: SoftwareCustodianOptions): Promise<SoftwareCustodian> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const rootKey = await loadOrCreateRootKey(join(dataDir, ROOT_KEY_FILE), logger);
    try {
      const store = MaterialStore.open(join(dataDir, MATERIAL_DB_FILE));
      logger?.warn(`Opened ${HEALTH.label} in ${dataDir}`);
      return new SoftwareCustodian(rootKey, store, logger);
    } catch (error) {
      rootKey.fill(0);
      throw error;
    }
  }

  health(): CustodianHealth {
    return HEALTH;
  }

  async generateKey(request: GenerateKeyRequest): Promise<GeneratedKey> {
    const ref = `sw:${randomUUID()}`;
    const key = randomBytes(KEY_BYTES);
    try {
      const wrapped = this.withWrappingKey(request.wrappingRef, (wrappingKey) =>
        sealAesGcm(wrappingKey, key, materialAad(ref)),
      );
      this.store.insert({
        ref,
        wrapped,
        wrappingRef: request.wrappingRef,
        keyId: request.keyId,
        version: request.version,
        tenantId: request.tenantId,
        purpose: request.purpose,
        createdAt: new Date().toISOString(),
      });
      return { materialRef: ref, fingerprint: keyCheckValue(key) };
    } finally {
      key.fill(0);
    }
  }

  async wrapForRecipient(materialRef: string, recipientPublicKeyPem: string): Promise<Buffer> {
    const recipientKey = parseRecipientPublicKey(recipientPublicKeyPem);
    return this.withMaterial(materialRef, (key) =>
      publicEncrypt({ key: recipientKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, key),
    );
  }

  async encrypt(materialRef: string, plaintext: Buffer, aad: Buffer): Promise<Buffer> {
    return this.withMaterial(materialRef, (key) => sealAesGcm(key, plaintext, aad));
  }

  async decrypt(materialRef: string, ciphertext: Buffer, aad: Buffer): Promise<Buffer> {
    const plaintext = this.withMaterial(materialRef, (key) => openAesGcm(key, ciphertext, aad));
    if (plaintext === null) throw new DecryptionFailedError(materialRef);
    return plaintext;
  }

  async destroy(materialRef: string): Promise<CustodyEvidence> {
    this.store.erase(materialRef);
    if (this.store.has(materialRef)) {
      throw new CustodyOperationError(`Key material ${materialRef} is still present after erasure`);
    }
    this.logger?.log(`Erased key material ${materialRef}`);
    return {
      custodian: 'software',
      materialRef,
      method: 'row erased with SQLite secure_delete and WAL truncated',
      verifiedAbsent: true,
      verification: 'SELECT by ref found no row',
    };
  }

  async exists(materialRef: string): Promise<boolean> {
    return this.store.has(materialRef);
  }

  async close(): Promise<void> {
    this.store.close();
    this.rootKey.fill(0);
  }

  /** Runs `use` with the plaintext material of `ref`, and zeroes that material afterwards. */
  private withMaterial<T>(ref: string, use: (key: Buffer) => T): T {
    const key = this.unseal(ref);
    try {
      return use(key);
    } finally {
      key.fill(0);
    }
  }

  /** The root file key seals top-level material; anything with a parent is sealed by the parent. */
  private withWrappingKey<T>(wrappingRef: string | null, use: (wrappingKey: Buffer) => T): T {
    return wrappingRef === null ? use(this.rootKey) : this.withMaterial(wrappingRef, use);
  }

  /** Unseals the material of `ref`, unsealing the keys above it first (recursively). */
  private unseal(ref: string): Buffer {
    const row = this.store.findWrapped(ref);
    if (row === undefined) throw new MaterialNotFoundError(ref);
    const key = this.withWrappingKey(row.wrappingRef, (wrappingKey) =>
      openAesGcm(wrappingKey, row.wrapped, materialAad(ref)),
    );
    if (key === null) {
      throw new CustodyOperationError(`Stored key material for ${ref} failed its integrity check`);
    }
    return key;
  }
}
