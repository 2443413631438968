import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { Key, KeyVersion } from '@keyledger/domain';
import type { KeyCustodian } from '@keyledger/custody';
import type { EventStore } from '@keyledger/event-store';
import type { Actor } from '../../shared/context.js';
import { CLOCK, ENGINE_SETTINGS, EVENT_STORE, KEY_CUSTODIAN, type Clock, type EngineSettings } from '../../shared/tokens.js';
import { DEK_REWRAP_EVENT_TYPES, dekRewrapStream, type DekRewrapEvent } from './events.js';
import { KeyHierarchy } from './key-hierarchy.js';
import { foldRewrapJob, rewrapDebt, rewrapTarget, type RewrapDebt } from './plan.js';

export const REWRAP_ACTOR: Actor = { principalId: 'system:rewrap', name: 'DEK rewrap job', roles: ['key-admin'], tenantId: null };

export interface RewrapSummary {
  jobId: string;
  kekId: string;
  toVersion: number;
  rewrapped: number;
  skipped: number;
  /** False when the job stopped early (shutdown) or another process took it over. */
  finished: boolean;
}

/** Material already gone, or refused by tenant isolation: record it and move on. Anything else stops the job. */
const SKIPPABLE = new Set(['CUSTODY.MATERIAL_NOT_FOUND', 'CUSTODY.CROSS_TENANT_WRAP']);

/** One pass of a job: the KEK, the version DEKs move to, and where its stream stands. */
interface JobRun {
  readonly kek: Key;
  readonly target: KeyVersion;
  readonly jobId: string;
  revision: number | 'no-stream';
  rewrapped: number;
  skipped: number;
}

/**
 * Rewraps every DEK still sealed under an older version of a KEK under its active version: the
 * custodian reseals the DEK's material (the DEK keeps its handle and its key, so no data is
 * touched), and each DEK's move is an event on the KEK's job stream, appended with the revision
 * just written. Resumable: after a crash the next run finds the open job and the DEKs not yet
 * recorded; the custodian's rewrap is idempotent, so a DEK moved just before the crash is
 * recorded then, once. A second process running the same job loses the append race and stops.
 */
@Injectable()
export class DekRewrapJob {
  constructor(
    private readonly hierarchy: KeyHierarchy,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(KEY_CUSTODIAN) private readonly custodian: KeyCustodian,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ENGINE_SETTINGS) private readonly settings: EngineSettings,
  ) {}

  /** Runs or resumes the job of `kekId`; null when nothing is left to rewrap. */
  async run(kekId: string, shouldStop: () => boolean = () => false): Promise<RewrapSummary | null> {
    const hierarchy = await this.hierarchy.current();
    const kek = hierarchy.key(kekId);
    const target = kek ? rewrapTarget(kek) : null;
    if (!kek || !target) return null;
    const job = foldRewrapJob(await this.store.readStream(dekRewrapStream(kekId)));
    const debt = rewrapDebt(hierarchy, kekId, target.version, job.skipped);
    const resumed = job.open?.toVersion === target.version ? job.open : null;
    if (resumed === null && debt.length === 0) return null;
    const run: JobRun = { kek, target, jobId: resumed?.jobId ?? randomUUID(), revision: job.revision, rewrapped: resumed?.rewrapped ?? 0, skipped: resumed?.skipped ?? 0 };
    if (job.open && resumed === null) await this.supersede(run, job.open);
    if (resumed === null) await this.append(run, { type: 'DekRewrapStarted', data: { jobId: run.jobId, kekId, tenantId: kek.tenantId, toVersion: target.version, dekVersions: debt.length, startedAt: this.now() } });
    for (const item of debt) {
      if (shouldStop()) return this.summary(run, false);
      await this.rewrapOne(run, item);
      if (this.settings.rewrapPauseMs) await sleep(this.settings.rewrapPauseMs);
    }
    await this.append(run, { type: 'DekRewrapCompleted', data: { jobId: run.jobId, kekId, toVersion: target.version, outcome: 'completed', rewrapped: run.rewrapped, skipped: run.skipped, completedAt: this.now() } });
    return this.summary(run, true);
  }

  private async rewrapOne(run: JobRun, item: RewrapDebt): Promise<void> {
    const ids = { jobId: run.jobId, kekId: run.kek.keyId, dekId: item.dekId, dekVersion: item.dekVersion };
    try {
      const outcome = await this.custodian.rewrapMaterial(item.materialRef, run.target.materialRef);
      const data = { ...ids, tenantId: item.tenantId, fromKekVersion: item.fromKekVersion, toKekVersion: run.target.version, changed: outcome.changed, rewrappedAt: this.now() };
      await this.append(run, { type: 'DekRewrapped', data });
      run.rewrapped += 1;
    } catch (error) {
      const { code, message } = error as { code?: unknown; message?: unknown };
      if (typeof code !== 'string' || !SKIPPABLE.has(code)) throw error;
      await this.append(run, { type: 'DekRewrapSkipped', data: { ...ids, toKekVersion: run.target.version, code, reason: String(message), skippedAt: this.now() } });
      run.skipped += 1;
    }
  }

  private async supersede(run: JobRun, open: { jobId: string; toVersion: number; rewrapped: number; skipped: number }): Promise<void> {
    const data = { jobId: open.jobId, kekId: run.kek.keyId, toVersion: open.toVersion, outcome: 'superseded' as const, rewrapped: open.rewrapped, skipped: open.skipped, completedAt: this.now() };
    await this.append(run, { type: 'DekRewrapCompleted', data });
  }

  /** Appends with the revision this run last wrote: a concurrent runner makes it fail with ConcurrencyError. */
  private async append(run: JobRun, event: DekRewrapEvent): Promise<void> {
    const metadata = { actor: REWRAP_ACTOR.principalId, tenantId: run.kek.tenantId, correlationId: run.jobId, causationId: null, idempotencyKey: null };
    const result = await this.store.appendToStream(
      dekRewrapStream(run.kek.keyId),
      [{ type: event.type, schemaVersion: DEK_REWRAP_EVENT_TYPES[event.type].schemaVersion, data: event.data, metadata }],
      run.revision,
    );
    run.revision = result.nextExpectedRevision;
  }

  private summary(run: JobRun, finished: boolean): RewrapSummary {
    return { jobId: run.jobId, kekId: run.kek.keyId, toVersion: run.target.version, rewrapped: run.rewrapped, skipped: run.skipped, finished };
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}
