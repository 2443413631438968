import type { CustodianName, KeyEvent, KeyPurpose } from '@keyledger/domain';
import type { RecordedEvent } from '@keyledger/event-store';

/** Recorded events for hierarchy tests: a small log built the way the engine would write it. */
export class LogBuilder {
  private readonly log: RecordedEvent[] = [];
  private readonly revisions = new Map<string, number>();

  get events(): RecordedEvent[] {
    return [...this.log];
  }

  generate(keyId: string, purpose: KeyPurpose, options: { tenantId?: string; parent?: [string, number]; custodian?: CustodianName; classifications?: string[] } = {}): this {
    return this.key({
      type: 'KeyGenerated',
      data: {
        keyId,
        tenantId: options.tenantId ?? 'tenant-a',
        purpose,
        algorithm: 'AES-256',
        custodian: options.custodian ?? 'software',
        parentKeyId: options.parent?.[0] ?? null,
        parentVersion: options.parent?.[1] ?? null,
        label: null,
        classifications: (options.classifications ?? []) as never,
        vendors: [],
        policy: { oupDays: 365, rupDays: 1460, deviation: null },
        material: { version: 1, materialRef: `ref-${keyId}-1`, fingerprint: `kcv-${keyId}-1` },
        generatedAt: '2026-01-01T00:00:00.000Z',
      },
    });
  }

  activate(keyId: string, version = 1): this {
    return this.key({
      type: 'KeyVersionActivated',
      data: { keyId, version, activatedAt: '2026-01-01T00:00:00.000Z', protectUntil: '2027-01-01T00:00:00.000Z', processUntil: '2030-01-01T00:00:00.000Z' },
    });
  }

  rotate(keyId: string, version: number, parentVersion: number | null = null): this {
    return this.key({
      type: 'KeyRotated',
      data: {
        keyId,
        material: { version, materialRef: `ref-${keyId}-${version}`, fingerprint: `kcv-${keyId}-${version}` },
        parentVersion,
        previousVersion: version - 1,
        rotatedAt: '2026-02-01T00:00:00.000Z',
        protectUntil: '2027-02-01T00:00:00.000Z',
        processUntil: '2030-02-01T00:00:00.000Z',
      },
    });
  }

  destroyed(keyId: string, version: number): this {
    const evidence = { custodian: 'software' as const, materialRef: `ref-${keyId}-${version}`, method: 'm', verifiedAbsent: true, verification: 'v', destroyedAt: '2026-03-01T00:00:00.000Z' };
    return this.key({ type: 'KeyVersionDestroyed', data: { keyId, version, destroyedAt: '2026-03-01T00:00:00.000Z', evidence } });
  }

  rewrapped(kekId: string, dekId: string, dekVersion: number, from: number, to: number, jobId = 'job-1'): this {
    return this.append(`dek-rewrap-${kekId}`, 'DekRewrapped', {
      jobId,
      kekId,
      dekId,
      dekVersion,
      tenantId: 'tenant-a',
      fromKekVersion: from,
      toKekVersion: to,
      changed: true,
      rewrappedAt: '2026-02-01T00:00:00.000Z',
    });
  }

  append(streamId: string, type: string, data: unknown): this {
    const revision = (this.revisions.get(streamId) ?? -1) + 1;
    this.revisions.set(streamId, revision);
    this.log.push({
      eventId: `e${this.log.length + 1}`,
      streamId,
      revision,
      position: this.log.length + 1,
      type,
      schemaVersion: 1,
      data,
      metadata: { actor: 'test', tenantId: null, correlationId: 'c', causationId: null, idempotencyKey: null, recordedAt: '2026-01-01T00:00:00.000Z' },
    });
    return this;
  }

  private key(event: KeyEvent): this {
    return this.append(`key-${event.data.keyId}`, event.type, event.data);
  }
}
