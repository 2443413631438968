import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  InvalidTransitionError,
  VersionNotFoundError,
  canonicalJson,
  resolveVersion,
  type DestructionEvidence,
  type Key,
  type KeyDestructionScheduled,
  type KeyVersionDestroyed,
} from '@keyledger/domain';
import type { EventStore, RecordedEvent } from '@keyledger/event-store';
import { Approvals, type ApprovalView } from '../../governance/approvals.js';
import type { RequestContext } from '../../shared/context.js';
import { keyUsageStream } from '../../shared/streams.js';
import { EVENT_STORE } from '../../shared/tokens.js';
import { KeyRepository } from '../key-repository.js';
import { KeyHierarchy, type HierarchyFold } from '../rewrap-job/key-hierarchy.js';
import { destructionImpact, type DestructionImpact } from './impact.js';

/** Uses that put data (or key material) under a version: what its destruction makes unreadable. */
const PROTECT_OPERATIONS = new Set(['encrypt', 'generate-data-key', 'rewrap', 'wrap', 'distribute']);

export interface DestructionCertificate {
  format: 'keyledger-destruction-certificate/v1';
  keyId: string;
  version: number;
  tenantId: string;
  purpose: Key['purpose'];
  custodian: Key['custodian'];
  compromised: boolean;
  destroyedAt: string;
  destroyedBy: string;
  /** The KeyVersionDestroyed event: where the evidence is recorded in the log. */
  event: { position: number; eventId: string; recordedAt: string; correlationId: string };
  /** The custodian's proof that the material is gone. */
  evidence: DestructionEvidence;
  schedule: { scheduledAt: string; scheduledFor: string; waitingPeriodDays: number; minimumWaitingPeriodDays: number; scheduledBy: string } | null;
  /** Dual-control requests that scheduled or executed this destruction (SPEC §5). */
  approvals: { id: string; operation: string; requestedBy: string; approvedBy: string[]; state: string; requestedAt: string }[];
  /** The impact report as it stood just before the destruction. */
  impact: DestructionImpact;
  /** SHA-256 of the canonical JSON of every field above: cite it to refer to this certificate. */
  digest: string;
}

export class DestructionImpactQuery {
  constructor(readonly keyId: string, readonly version: number | undefined, readonly ctx: RequestContext) {}
}

export class DestructionCertificateQuery {
  constructor(readonly keyId: string, readonly version: number | undefined, readonly ctx: RequestContext) {}
}

/**
 * The impact report and the destruction certificate, computed by folding the log (the hierarchy
 * and the usage streams) until the lineage projection serves them.
 */
@Injectable()
export class DestructionReports {
  constructor(
    private readonly keys: KeyRepository,
    private readonly hierarchy: KeyHierarchy,
    private readonly approvals: Approvals,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async impact(keyId: string, version: number | undefined, ctx: RequestContext): Promise<DestructionImpact> {
    const { key } = await this.keys.load(keyId, ctx, 'destruction-impact');
    const hierarchy = await this.hierarchy.current();
    return this.impactAt(hierarchy, key, resolveVersion(key, version).version, Number.MAX_SAFE_INTEGER);
  }

  async certificate(keyId: string, version: number | undefined, ctx: RequestContext): Promise<DestructionCertificate> {
    const { key } = await this.keys.load(keyId, ctx, 'destruction-certificate');
    const events = await this.keys.readEvents(keyId);
    const destroyed = destructionEventOf(key, events, version);
    const scheduled = lastScheduleBefore(events, destroyed);
    const before = await this.hierarchy.asOf(destroyed.position - 1);
    const body = {
      format: 'keyledger-destruction-certificate/v1' as const,
      keyId,
      version: destroyed.data.version,
      tenantId: key.tenantId,
      purpose: key.purpose,
      custodian: key.custodian,
      compromised: resolveVersion(key, destroyed.data.version).compromised,
      destroyedAt: destroyed.data.destroyedAt,
      destroyedBy: destroyed.metadata.actor,
      event: { position: destroyed.position, eventId: destroyed.eventId, recordedAt: destroyed.metadata.recordedAt, correlationId: destroyed.metadata.correlationId },
      evidence: destroyed.data.evidence,
      schedule: scheduled && {
        scheduledAt: scheduled.data.scheduledAt,
        scheduledFor: scheduled.data.scheduledFor,
        waitingPeriodDays: scheduled.data.waitingPeriodDays,
        minimumWaitingPeriodDays: scheduled.data.minimumWaitingPeriodDays,
        scheduledBy: scheduled.metadata.actor,
      },
      approvals: await this.approvalsOf(keyId, destroyed.data.version),
      impact: await this.impactAt(before, keyAsOf(before, key), destroyed.data.version, destroyed.position - 1),
    };
    return { ...body, digest: createHash('sha256').update(canonicalJson(body)).digest('hex') };
  }

  private async impactAt(hierarchy: HierarchyFold, key: Key, version: number, untilPosition: number): Promise<DestructionImpact> {
    const target = resolveVersion(key, version);
    const lostKeys = new Set([key.keyId, ...destructionImpactKeys(hierarchy, key, version)]);
    const counts = await this.protectUseCounts([...lostKeys], untilPosition);
    return destructionImpact(hierarchy, key, target, (keyId, v) => counts.get(`${keyId}#${v}`) ?? 0);
  }

  private async protectUseCounts(keyIds: string[], untilPosition: number): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const keyId of keyIds) {
      for (const event of await this.store.readStream(keyUsageStream(keyId))) {
        if (event.position > untilPosition || event.type !== 'KeyUsed') continue;
        const { operation, version } = event.data as { operation: string; version: number };
        if (!PROTECT_OPERATIONS.has(operation)) continue;
        counts.set(`${keyId}#${version}`, (counts.get(`${keyId}#${version}`) ?? 0) + 1);
      }
    }
    return counts;
  }

  private async approvalsOf(keyId: string, version: number): Promise<DestructionCertificate['approvals']> {
    const all = await this.approvals.list();
    return all.filter((approval) => concernsDestruction(approval, keyId, version)).map((approval) => ({
      id: approval.id,
      operation: approval.operation,
      requestedBy: approval.requestedBy,
      approvedBy: [...approval.approvals],
      state: approval.state,
      requestedAt: approval.requestedAt,
    }));
  }
}

function destructionImpactKeys(hierarchy: HierarchyFold, key: Key, version: number): string[] {
  return destructionImpact(hierarchy, key, resolveVersion(key, version), () => 0).unreadableKeys.map((k) => k.keyId);
}

/** The key as the hierarchy knew it then (its versions' states before the destruction). */
const keyAsOf = (hierarchy: HierarchyFold, now: Key): Key => hierarchy.key(now.keyId) ?? now;

function destructionEventOf(key: Key, events: RecordedEvent[], version: number | undefined): RecordedEvent & KeyVersionDestroyed {
  const destructions = events.filter((e): e is RecordedEvent & KeyVersionDestroyed => e.type === 'KeyVersionDestroyed');
  if (version !== undefined && !key.versions.some((v) => v.version === version)) throw new VersionNotFoundError(key.keyId, version);
  const found = version === undefined ? destructions[destructions.length - 1] : destructions.find((e) => e.data.version === version);
  if (found === undefined) {
    const v = resolveVersion(key, version);
    throw new InvalidTransitionError('certify the destruction of', v.state, key.keyId, v.version, 'it has not been destroyed');
  }
  return found;
}

function lastScheduleBefore(events: RecordedEvent[], destroyed: RecordedEvent & KeyVersionDestroyed): (RecordedEvent & KeyDestructionScheduled) | null {
  const schedules = events.filter(
    (e): e is RecordedEvent & KeyDestructionScheduled =>
      e.type === 'KeyDestructionScheduled' && e.position < destroyed.position && (e.data as { version: number }).version === destroyed.data.version,
  );
  return schedules[schedules.length - 1] ?? null;
}

/** An executed or pending request about this version's destruction (a request without a version meant the current one). */
function concernsDestruction(approval: ApprovalView, keyId: string, version: number): boolean {
  if (approval.keyId !== keyId || (approval.operation !== 'schedule-destruction' && approval.operation !== 'destroy')) return false;
  if (approval.version !== null && approval.version !== undefined) return approval.version === version;
  const result = approval.result as { versions?: { version: number; destructionScheduledFor: string | null }[] } | null;
  return result?.versions?.some((v) => v.version === version && v.destructionScheduledFor !== null) ?? false;
}

@QueryHandler(DestructionImpactQuery)
export class DestructionImpactHandler implements IQueryHandler<DestructionImpactQuery, DestructionImpact> {
  constructor(private readonly reports: DestructionReports) {}
  execute({ keyId, version, ctx }: DestructionImpactQuery): Promise<DestructionImpact> {
    return this.reports.impact(keyId, version, ctx);
  }
}

@QueryHandler(DestructionCertificateQuery)
export class DestructionCertificateHandler implements IQueryHandler<DestructionCertificateQuery, DestructionCertificate> {
  constructor(private readonly reports: DestructionReports) {}
  execute({ keyId, version, ctx }: DestructionCertificateQuery): Promise<DestructionCertificate> {
    return this.reports.certificate(keyId, version, ctx);
  }
}
