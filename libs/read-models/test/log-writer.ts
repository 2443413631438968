import { randomUUID } from 'node:crypto';
import {
  decideKey,
  evolveKey,
  initialKeyState,
  KEY_EVENT_TYPES,
  type KeyCommand,
  type KeyEvent,
  type KeyPurpose,
  type KeyState,
  type DataClassification,
  type VendorIntegration,
  type CustodianName,
} from '@keyledger/domain';
import type { EventMetadata, EventStore, NewEvent } from '@keyledger/event-store';

/**
 * Writes realistic logs for read-side tests: key events decided by the real domain decider,
 * appended with the application's stream names, plus uses, denials, ceremonies and events of
 * types the read side does not know. Instants in event data are chosen by the test; the store
 * sets recordedAt, as it always does.
 */
export const ACTOR = 'principal-admin';

export interface GenerateOptions {
  readonly tenantId: string;
  readonly purpose: KeyPurpose;
  readonly parent?: string;
  readonly classifications?: DataClassification[];
  readonly vendors?: VendorIntegration[];
  readonly custodian?: CustodianName;
  readonly cryptoperiodDays?: number;
  readonly now?: string;
}

type CommandData<T extends KeyCommand['type']> = Omit<Extract<KeyCommand, { type: T }>['data'], 'now'> & { now?: string };

export class LogWriter {
  private readonly states = new Map<string, { state: KeyState; revision: number }>();

  constructor(readonly store: EventStore, private readonly clock: () => string = () => new Date().toISOString()) {}

  metadata(tenantId: string | null, actor = ACTOR): EventMetadata {
    return { actor, tenantId, correlationId: randomUUID(), causationId: null, idempotencyKey: null };
  }

  key(keyId: string) {
    const entry = this.states.get(keyId);
    if (!entry || entry.state.status !== 'present') throw new Error(`no key ${keyId}`);
    return entry.state.key;
  }

  keyIds(): string[] {
    return [...this.states.keys()];
  }

  async generate(options: GenerateOptions): Promise<string> {
    const keyId = randomUUID();
    const parent = options.parent ? this.key(options.parent) : null;
    const command: KeyCommand = {
      type: 'GenerateKey',
      data: {
        keyId,
        tenantId: options.tenantId,
        purpose: options.purpose,
        algorithm: 'AES-256',
        custodian: options.custodian ?? 'software',
        parent: parent
          ? { keyId: parent.keyId, tenantId: parent.tenantId, purpose: parent.purpose, version: parent.currentVersion, canProtect: true }
          : null,
        label: null,
        classifications: options.classifications ?? ['ephi'],
        vendors: options.vendors ?? [],
        cryptoperiodDays: options.cryptoperiodDays ?? null,
        material: { materialRef: `ref-${keyId}-1`, fingerprint: `kcv-${keyId}-1` },
        now: options.now ?? this.clock(),
      },
    };
    await this.apply(keyId, command, options.tenantId);
    return keyId;
  }

  /** Decides a lifecycle command on the key's current state and appends what it decides. */
  async command<T extends Exclude<KeyCommand['type'], 'GenerateKey'>>(keyId: string, type: T, data: CommandData<T>): Promise<KeyEvent[]> {
    const command = { type, data: { ...data, now: data.now ?? this.clock() } } as KeyCommand;
    return this.apply(keyId, command, this.key(keyId).tenantId);
  }

  /** Like `command`, but a refusal appends nothing and returns no events. */
  async tryCommand<T extends Exclude<KeyCommand['type'], 'GenerateKey'>>(keyId: string, type: T, data: CommandData<T>): Promise<KeyEvent[]> {
    try {
      return await this.command(keyId, type, data);
    } catch (error) {
      if (isRefusal(error)) return [];
      throw error;
    }
  }

  async rotate(keyId: string, now?: string): Promise<KeyEvent[]> {
    const key = this.key(keyId);
    const parent = key.parentKeyId ? this.key(key.parentKeyId) : null;
    return this.command(keyId, 'RotateKey', {
      material: { materialRef: `ref-${keyId}-${key.versions.length + 1}`, fingerprint: `kcv-${keyId}-${key.versions.length + 1}` },
      parentVersion: parent ? parent.currentVersion : null,
      ...(now ? { now } : {}),
    });
  }

  /** Like `rotate`, but a refusal appends nothing and returns no events. */
  async tryRotate(keyId: string): Promise<KeyEvent[]> {
    return this.rotate(keyId).catch((error: unknown) => {
      if (isRefusal(error)) return [];
      throw error;
    });
  }

  async used(keyId: string, version: number, operation: string, at = this.clock(), actor = ACTOR): Promise<void> {
    await this.append(`key-usage-${keyId}`, 'KeyUsed', { keyId, version, operation, recipientId: null, usedAt: at }, this.key(keyId).tenantId, actor);
  }

  /** A rewrap of a ciphertext from one version of the key to another (a use of the new one). */
  async rewrapUse(keyId: string, fromVersion: number, toVersion: number): Promise<void> {
    const data = { keyId, version: toVersion, operation: 'rewrap', recipientId: null, fromVersion, usedAt: this.clock() };
    await this.append(`key-usage-${keyId}`, 'KeyUsed', data, this.key(keyId).tenantId);
  }

  async failed(keyId: string, version: number, operation: string): Promise<void> {
    const data = { keyId, version, operation, code: 'CRYPTO.AUTHENTICATION_FAILED', reason: 'tag mismatch', failedAt: this.clock() };
    await this.append(`key-usage-${keyId}`, 'KeyUseFailed', data, this.key(keyId).tenantId);
  }

  /** The KEK rotation job's record that a DEK version is now wrapped under another KEK version. */
  async dekRewrapped(dekId: string, dekVersion: number, toKekVersion: number): Promise<void> {
    const dek = this.key(dekId);
    const kekId = dek.parentKeyId!;
    const fromKekVersion = dek.versions.find((v) => v.version === dekVersion)?.parentVersion ?? 0;
    const data = { jobId: 'job-1', kekId, dekId, dekVersion, tenantId: dek.tenantId, fromKekVersion, toKekVersion, changed: true, rewrappedAt: this.clock() };
    await this.append(`dek-rewrap-${kekId}`, 'DekRewrapped', data, dek.tenantId, 'system:rewrap');
  }

  async denied(keyId: string, version: number | null, operation: string, at = this.clock(), actor = ACTOR): Promise<void> {
    const data = { keyId, version, operation, code: 'KEY.USAGE_NOT_ALLOWED', reason: 'refused', deniedAt: at };
    await this.append(`key-usage-${keyId}`, 'KeyUseDenied', data, this.key(keyId).tenantId, actor);
  }

  async crossTenant(keyId: string, principalId: string, principalTenantId: string): Promise<void> {
    const data = { keyId, principalId, principalTenantId, operation: 'read', deniedAt: this.clock() };
    await this.append('access-denials', 'CrossTenantAccessDenied', data, this.key(keyId).tenantId, principalId);
  }

  async ceremonyClosed(keyId: string | null, closedAt: string): Promise<string> {
    const ceremonyId = randomUUID();
    const data = { ceremonyId, purpose: 'annual root ceremony', keyId, transcriptHash: 'ab'.repeat(32), closedBy: ACTOR, closedAt, witnesses: ['w1', 'w2'] };
    await this.append(`ceremony-${ceremonyId}`, 'CeremonyClosed', data, null);
    return ceremonyId;
  }

  async unknown(type: string, data: unknown = {}): Promise<void> {
    await this.append(`other-${randomUUID()}`, type, data, null);
  }

  async append(streamId: string, type: string, data: unknown, tenantId: string | null, actor = ACTOR): Promise<void> {
    await this.store.appendToStream(streamId, [{ type, schemaVersion: 1, data, metadata: this.metadata(tenantId, actor) }], 'any');
  }

  private async apply(keyId: string, command: KeyCommand, tenantId: string): Promise<KeyEvent[]> {
    const current = this.states.get(keyId) ?? { state: initialKeyState(), revision: -1 };
    const events = decideKey(command, current.state);
    const newEvents: NewEvent[] = events.map((e) => ({
      type: e.type,
      schemaVersion: KEY_EVENT_TYPES[e.type].schemaVersion,
      data: e.data,
      metadata: this.metadata(tenantId),
    }));
    const result = await this.store.appendToStream(`key-${keyId}`, newEvents, current.revision < 0 ? 'no-stream' : current.revision);
    this.states.set(keyId, { state: events.reduce(evolveKey, current.state), revision: result.nextExpectedRevision });
    return events;
  }
}

/** A command the domain refused (typed error with a stable code): nothing was appended. */
const isRefusal = (error: unknown): boolean => /^(KEY|POLICY|VALIDATION)\./.test((error as { code?: string } | null)?.code ?? '');

/**
 * The log the ReadModelStorage contract reads: tenant-a with a KEK (ephi, an openai CMK vendor)
 * and a pre-activation DEK (pii) under it, a platform root under a closed ceremony, tenant-b's
 * KEK in an HSM revoked as compromised, two encryptions and a denied decryption by another
 * principal, and two events of a type the read side does not know.
 */
export async function seedContractLog(store: EventStore): Promise<{ rootKey: string; kekA: string; dekA: string; kekB: string }> {
  const log = new LogWriter(store);
  const rootKey = await log.generate({ tenantId: 'platform', purpose: 'root', classifications: ['internal'] });
  await log.command(rootKey, 'ActivateKey', {});
  await log.ceremonyClosed(rootKey, new Date().toISOString());
  const kekA = await log.generate({ tenantId: 'tenant-a', purpose: 'kek', parent: rootKey, vendors: [{ name: 'openai', mode: 'cmk', baaStatus: 'signed' }] });
  await log.command(kekA, 'ActivateKey', {});
  const dekA = await log.generate({ tenantId: 'tenant-a', purpose: 'dek', parent: kekA, classifications: ['pii'] });
  await log.unknown('GadgetAttached', { keyId: dekA });
  const kekB = await log.generate({ tenantId: 'tenant-b', purpose: 'kek', parent: rootKey, custodian: 'pkcs11' });
  await log.command(kekB, 'ActivateKey', {});
  await log.used(dekA, 1, 'encrypt');
  await new Promise((resolve) => setTimeout(resolve, 3));
  await log.command(kekB, 'RevokeKey', { reason: 'compromised', compromisedAt: new Date(Date.now() - 1000).toISOString() });
  await log.used(dekA, 1, 'encrypt');
  await log.denied(dekA, 1, 'decrypt', undefined, 'principal-other');
  await log.rewrapUse(dekA, 1, 2);
  await log.failed(dekA, 1, 'decrypt');
  await log.unknown('GadgetAttached', {});
  return { rootKey, kekA, dekA, kekB };
}
