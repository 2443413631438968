import { Inject, Injectable } from '@nestjs/common';
import { DomainError, UsageNotAllowedError, checkUsage, type Key, type KeyPurpose, type KeyUsage, type KeyVersion } from '@keyledger/domain';
import { KeyRepository } from '../keys/key-repository.js';
import { UsageLog, type KeyUseOperation } from '../keys/usage-log.js';
import type { RequestContext } from '../shared/context.js';
import { CLOCK, type Clock } from '../shared/tokens.js';

export type DataPlaneOperation = Extract<KeyUseOperation, 'generate-data-key' | 'encrypt' | 'decrypt' | 'unwrap' | 'rewrap'>;

/**
 * Which keys may serve which use. Data keys are generated (and their blobs unwrapped) under a
 * KEK only, as the hierarchy of SPEC §2 says; payloads may be encrypted with a KEK or a DEK. A
 * root protects KEKs and nothing else.
 */
const PURPOSES: Readonly<Record<DataPlaneOperation, readonly KeyPurpose[]>> = {
  'generate-data-key': ['kek'],
  unwrap: ['kek'],
  encrypt: ['kek', 'dek'],
  decrypt: ['kek', 'dek'],
  rewrap: ['kek', 'dek'],
};

export interface UseRecord {
  readonly version: number;
  readonly operation: DataPlaneOperation;
  readonly fromVersion?: number;
}

/**
 * The shape every data-plane use shares: load the key (another tenant's is "not found", and
 * recorded), permit the use with the SP 800-57 table of the domain (a refusal is recorded as a
 * denied use), run the custodian's work, and record the use. A use is answered only after its
 * record is durable: if the record cannot be written, the caller gets an error, not the result.
 */
@Injectable()
export class KeyUses {
  constructor(
    private readonly keys: KeyRepository,
    private readonly usage: UsageLog,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async load(keyId: string, ctx: RequestContext, operation: DataPlaneOperation): Promise<Key> {
    return (await this.keys.load(keyId, ctx, operation)).key;
  }

  /** The version allowed to `usage` now (the current one, or the named one). */
  async permit(ctx: RequestContext, key: Key, operation: DataPlaneOperation, usage: KeyUsage, version?: number): Promise<KeyVersion> {
    try {
      if (!PURPOSES[operation].includes(key.purpose)) {
        throw new UsageNotAllowedError(key.keyId, version ?? key.currentVersion, usage, purposeRefusal(operation, key.purpose));
      }
      return checkUsage(key, usage, this.clock.now().toISOString(), version);
    } catch (error) {
      if (error instanceof DomainError) {
        const use = { keyId: key.keyId, version: version ?? key.currentVersion, operation, code: error.code, reason: error.message };
        await this.usage.denied(ctx, key.tenantId, use);
      }
      throw error;
    }
  }

  /**
   * Runs `work` and records the use. A failure of `work` is recorded as a failed use; when the
   * record of a success cannot be written, `discard` erases what `work` produced and the caller
   * gets the error instead.
   */
  async perform<T>(ctx: RequestContext, key: Key, use: UseRecord, work: () => Promise<T>, discard: (result: T) => void = () => undefined): Promise<T> {
    let result: T;
    try {
      result = await work();
    } catch (error) {
      await this.recordFailure(ctx, key, use, error);
      throw error;
    }
    try {
      await this.usage.used(ctx, key.tenantId, { keyId: key.keyId, ...use });
    } catch (error) {
      discard(result);
      throw error;
    }
    return result;
  }

  private async recordFailure(ctx: RequestContext, key: Key, use: UseRecord, error: unknown): Promise<void> {
    const coded = error as { code?: unknown; message?: unknown };
    // Only typed errors say what happened; anything else may hold anything, so it is not copied.
    const known = typeof coded.code === 'string' && typeof coded.message === 'string';
    await this.usage
      .failed(ctx, key.tenantId, {
        keyId: key.keyId,
        version: use.version,
        operation: use.operation,
        code: known ? (coded.code as string) : 'INTERNAL.ERROR',
        reason: known ? (coded.message as string) : 'the custodian failed unexpectedly',
      })
      // The original error is what the caller must see; a store that cannot record it will fail the next use too.
      .catch(() => undefined);
  }
}

function purposeRefusal(operation: DataPlaneOperation, purpose: KeyPurpose): string {
  const allowed = PURPOSES[operation].join(' or ');
  return `${operation} needs a ${allowed}, and this key is a ${purpose}`;
}
