import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { DomainError, instantMillis } from '@keyledger/domain';
import { ConcurrencyError, type EventStore } from '@keyledger/event-store';
import type { KeyView } from '../keys/key-view.js';
import type { Page } from '../keys/key-catalog.js';
import { ListKeysQuery } from '../keys/queries.js';
import { RotateKeyCommand } from '../keys/rotate.js';
import type { Actor, RequestContext } from '../shared/context.js';
import { CLOCK, ENGINE_SETTINGS, EVENT_STORE, type Clock, type EngineSettings } from '../shared/tokens.js';

export const SCHEDULER_ACTOR: Actor = { principalId: 'system:scheduler', name: 'rotation scheduler', roles: ['key-admin'], tenantId: null };
export const SCHEDULER_LEASE_STREAM = 'scheduler-lease';
export const SCHEDULER_FINDINGS_STREAM = 'scheduler-findings';

export interface SchedulerReport {
  ranAt: string;
  /** False when another instance holds the lease: only one scheduler acts at a time. */
  active: boolean;
  rotated: { keyId: string; fromVersion: number; toVersion: number }[];
  raised: { keyId: string; version: number; purpose: string; reason: string }[];
  failed: { keyId: string; version: number; code: string; message: string }[];
}

type Due = { key: KeyView; version: number };

/**
 * Finds active versions at the end of their originator-usage period and rotates them where policy
 * says so (DEKs and KEKs by default). Roots, and purposes left to manual rotation, get a finding
 * instead: a root rotates only under dual control. Every action is an event with the scheduler
 * as actor. Several API processes may run it: a lease on its own stream lets one act at a time,
 * and each rotation is an ordinary command, so a race still yields one new version.
 */
@Injectable()
export class RotationScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly instance = randomUUID();
  private readonly logger = new Logger('RotationScheduler');
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ENGINE_SETTINGS) private readonly settings: EngineSettings,
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  onApplicationBootstrap(): void {
    if (this.settings.schedulerIntervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.tick().catch((error: unknown) => this.logger.warn(`rotation scheduler tick failed: ${(error as Error).message}`));
    }, this.settings.schedulerIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async tick(): Promise<SchedulerReport> {
    const now = this.clock.now().toISOString();
    const report: SchedulerReport = { ranAt: now, active: false, rotated: [], raised: [], failed: [] };
    if (!(await this.takeLease(now))) return report;
    report.active = true;
    const raisedBefore = await this.raisedFindings();
    for (const due of await this.dueVersions(now)) {
      if ((this.settings.autoRotate as readonly string[]).includes(due.key.purpose)) await this.rotate(due, report);
      else if (!raisedBefore.has(`${due.key.id}#${due.version}`)) await this.raise(due, now, report);
    }
    return report;
  }

  private async rotate({ key, version }: Due, report: SchedulerReport): Promise<void> {
    try {
      const rotated = await this.commands.execute<RotateKeyCommand, KeyView>(new RotateKeyCommand(key.id, this.context()));
      report.rotated.push({ keyId: key.id, fromVersion: version, toVersion: rotated.currentVersion });
    } catch (error) {
      // A concurrent rotation of the same key already did the work; anything else is reported.
      if (error instanceof ConcurrencyError) return;
      if (!(error instanceof DomainError)) throw error;
      report.failed.push({ keyId: key.id, version, code: error.code, message: error.message });
    }
  }

  private async raise({ key, version }: Due, now: string, report: SchedulerReport): Promise<void> {
    const reason = key.purpose === 'root' ? 'a root rotates only under dual control: request it with POST /v1/approvals' : 'rotation of this purpose is manual by policy';
    const finding = { keyId: key.id, version, purpose: key.purpose, reason };
    await this.store.appendToStream(
      SCHEDULER_FINDINGS_STREAM,
      [{ type: 'RotationDueRaised', schemaVersion: 1, data: { ...finding, raisedAt: now }, metadata: this.metadata(key.tenantId) }],
      'any',
    );
    report.raised.push(finding);
  }

  private async dueVersions(now: string): Promise<Due[]> {
    const due: Due[] = [];
    const nowMillis = instantMillis(now);
    for (let cursor: string | undefined; ; ) {
      const page: Page<KeyView> = await this.queries.execute(new ListKeysQuery(SCHEDULER_ACTOR, { limit: 1000, ...(cursor ? { cursor } : {}) }));
      for (const key of page.items) {
        const current = key.versions.find((v) => v.version === key.currentVersion);
        if (current?.state === 'active' && current.protectUntil && instantMillis(current.protectUntil, 'protectUntil') <= nowMillis) {
          due.push({ key, version: current.version });
        }
      }
      if (!page.nextCursor) return due;
      cursor = page.nextCursor;
    }
  }

  private async raisedFindings(): Promise<Set<string>> {
    const events = await this.store.readStream(SCHEDULER_FINDINGS_STREAM);
    return new Set(events.map((e) => `${(e.data as { keyId: string }).keyId}#${(e.data as { version: number }).version}`));
  }

  /** Takes or renews the lease; false when another instance holds a live one or wins the race. */
  private async takeLease(now: string): Promise<boolean> {
    const events = await this.store.readStream(SCHEDULER_LEASE_STREAM);
    const last = events[events.length - 1];
    const lease = last?.data as { holder: string; until: string } | undefined;
    if (lease && lease.holder !== this.instance && instantMillis(lease.until, 'until') > instantMillis(now)) return false;
    const until = new Date(instantMillis(now) + Math.max(2 * this.settings.schedulerIntervalMs, 60_000)).toISOString();
    try {
      await this.store.appendToStream(
        SCHEDULER_LEASE_STREAM,
        [{ type: 'SchedulerLeaseTaken', schemaVersion: 1, data: { holder: this.instance, until, takenAt: now }, metadata: this.metadata(null) }],
        last ? last.revision : 'no-stream',
      );
      return true;
    } catch (error) {
      if (error instanceof ConcurrencyError) return false;
      throw error;
    }
  }

  private context(): RequestContext {
    return { actor: SCHEDULER_ACTOR, correlationId: randomUUID(), idempotencyKey: null, expectedRevision: null };
  }

  private metadata(tenantId: string | null) {
    return { actor: SCHEDULER_ACTOR.principalId, tenantId, correlationId: randomUUID(), causationId: null, idempotencyKey: null };
  }
}
