/**
 * The embedded default custodian: AES-256 in node:crypto, material sealed in a key-material store
 * under a root key file. It is honest about what it is: NOT a FIPS 140-3 validated module.
 */
import { Buffer } from 'node:buffer';
import { constants, publicEncrypt, randomBytes, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { keyCheckValue } from '../key-check-value.js';
import { MaterialCache, NO_MATERIAL_CACHE, type MaterialCacheOptions } from '../material-cache.js';
import {
  CustodyOperationError,
  DecryptionFailedError,
  MaterialNotFoundError,
  UnsupportedKeySourceError,
  type CustodianHealth,
  type CustodyEvidence,
  type CustodyLogger,
  type DataKey,
  type GeneratedKey,
  type GenerateKeyRequest,
  type KeyCustodian,
  type RewrapOutcome,
  type SealingKey,
} from '../port.js';
import { parseRecipientPublicKey } from '../recipient-key.js';
import { reencryptThroughMemory } from '../reencrypt.js';
import { assertMayWrap } from '../tenancy.js';
import { openAesGcm, sealAesGcm } from './aes-gcm.js';
import { SqliteMaterialStore, type MaterialRow, type MaterialStore } from './material-store.js';
import { loadOrCreateRootKey } from './root-key-file.js';

export const ROOT_KEY_FILE = 'root.key';
export const MATERIAL_DB_FILE = 'key-material.db';
const KEY_BYTES = 32;

export interface SoftwareCustodianOptions {
  readonly dataDir: string;
  readonly logger?: CustodyLogger;
  /** Where sealed material is kept; the SQLite file `key-material.db` in `dataDir` by default. */
  readonly materialStore?: MaterialStore;
  /** Unwrapped DEKs kept in memory briefly; off by default. */
  readonly cache?: MaterialCacheOptions;
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
    private readonly cache: MaterialCache,
    private readonly logger: CustodyLogger | undefined,
  ) {}

  static async open({ dataDir, logger, materialStore, cache }: SoftwareCustodianOptions): Promise<SoftwareCustodian> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const rootKey = await loadOrCreateRootKey(join(dataDir, ROOT_KEY_FILE), logger);
    try {
      const store = materialStore ?? SqliteMaterialStore.open(join(dataDir, MATERIAL_DB_FILE));
      logger?.warn(`Opened ${HEALTH.label} in ${dataDir}`);
      return new SoftwareCustodian(rootKey, store, new MaterialCache(cache ?? NO_MATERIAL_CACHE), logger);
    } catch (error) {
      rootKey.fill(0);
      throw error;
    }
  }

  health(): CustodianHealth {
    return HEALTH;
  }

  async generateKey(request: GenerateKeyRequest): Promise<GeneratedKey> {
    const source = request.source?.kind ?? 'generate';
    if (source !== 'generate') throw new UnsupportedKeySourceError('software', source);
    const ref = `sw:${randomUUID()}`;
    if (request.wrappingRef !== null) assertMayWrap({ ref, tenantId: request.tenantId }, await this.rowOf(request.wrappingRef));
    const key = randomBytes(KEY_BYTES);
    try {
      const wrapped = await this.withWrappingKey(request.wrappingRef, (wrappingKey) =>
        sealAesGcm(wrappingKey, key, materialAad(ref)),
      );
      await this.store.insert({
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
    const plaintext = await this.withMaterial(materialRef, (key) => openAesGcm(key, ciphertext, aad));
    if (plaintext === null) throw new DecryptionFailedError(materialRef);
    return plaintext;
  }

  async generateDataKey(materialRef: string, aad: Buffer): Promise<DataKey> {
    const plaintext = randomBytes(KEY_BYTES);
    try {
      return { plaintext, sealed: await this.encrypt(materialRef, plaintext, aad) };
    } catch (error) {
      plaintext.fill(0);
      throw error;
    }
  }

  reencrypt(ciphertext: Buffer, from: SealingKey, to: SealingKey): Promise<Buffer> {
    return reencryptThroughMemory(this, ciphertext, from, to);
  }

  async rewrapMaterial(materialRef: string, newWrappingRef: string): Promise<RewrapOutcome> {
    const row = await this.rowOf(materialRef);
    const outcome = { materialRef, wrappingRef: newWrappingRef };
    if (row.wrappingRef === newWrappingRef) return { ...outcome, changed: false };
    assertMayWrap(row, await this.rowOf(newWrappingRef));
    const key = await this.unseal(row);
    try {
      const wrapped = await this.withWrappingKey(newWrappingRef, (wrappingKey) => sealAesGcm(wrappingKey, key, materialAad(materialRef)));
      if (!(await this.store.replaceWrapping(materialRef, wrapped, newWrappingRef, row.wrappingRef))) {
        return this.settledRewrap(materialRef, newWrappingRef);
      }
      this.cache.evict(materialRef);
      return { ...outcome, changed: true };
    } finally {
      key.fill(0);
    }
  }

  async wrappingOf(materialRef: string): Promise<string | null | undefined> {
    return (await this.store.find(materialRef))?.wrappingRef;
  }

  async destroy(materialRef: string): Promise<CustodyEvidence> {
    await this.store.erase(materialRef);
    // Children of a destroyed wrapping key must not outlive it in memory either.
    this.cache.clear();
    if (await this.store.has(materialRef)) {
      throw new CustodyOperationError(`Key material ${materialRef} is still present after erasure`);
    }
    this.logger?.log(`Erased key material ${materialRef}`);
    return {
      custodian: 'software',
      materialRef,
      method: this.store.erasureMethod,
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
    this.rootKey.fill(0);
  }

  /** A concurrent rewrap won the compare-and-set: fine if it moved the material where we wanted. */
  private async settledRewrap(materialRef: string, newWrappingRef: string): Promise<RewrapOutcome> {
    const now = await this.store.find(materialRef);
    if (now === undefined) throw new MaterialNotFoundError(materialRef);
    if (now.wrappingRef !== newWrappingRef) {
      throw new CustodyOperationError(`Key material ${materialRef} was rewrapped concurrently under ${now.wrappingRef}`);
    }
    return { materialRef, wrappingRef: newWrappingRef, changed: false };
  }

  /**
   * Runs `use` with the plaintext material of `ref`. DEKs may come from (and go to) the cache;
   * any other key is zeroed as soon as `use` returns. `use` is synchronous on purpose (see MaterialCache).
   */
  private async withMaterial<T>(ref: string, use: (key: Buffer) => T): Promise<T> {
    const cached = this.cache.use(ref, use);
    if (cached.hit) return cached.value;
    const row = await this.rowOf(ref);
    const key = await this.unseal(row);
    try {
      return use(key);
    } finally {
      if (row.purpose === 'dek') this.cache.put(ref, key);
      else key.fill(0);
    }
  }

  /** The root file key seals top-level material; anything with a parent is sealed by the parent. */
  private async withWrappingKey<T>(wrappingRef: string | null, use: (wrappingKey: Buffer) => T): Promise<T> {
    return wrappingRef === null ? use(this.rootKey) : this.withMaterial(wrappingRef, use);
  }

  private async rowOf(ref: string): Promise<MaterialRow> {
    const row = await this.store.find(ref);
    if (row === undefined) throw new MaterialNotFoundError(ref);
    return row;
  }

  /** Unseals the material of `row`, unsealing the keys above it first (recursively). */
  private async unseal(row: MaterialRow): Promise<Buffer> {
    const key = await this.withWrappingKey(row.wrappingRef, (wrappingKey) =>
      openAesGcm(wrappingKey, row.wrapped, materialAad(row.ref)),
    );
    if (key === null) {
      throw new CustodyOperationError(`Stored key material for ${row.ref} failed its integrity check`);
    }
    return key;
  }
}
