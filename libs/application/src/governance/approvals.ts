import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApprovalError,
  DomainError,
  InvalidInputError,
  decideApproval,
  evolveApproval,
  foldApproval,
  isApprovalEvent,
  approvalStatusAt,
  requiresDualControl,
  type ApprovalCommand,
  type ApprovalEvent,
  type ApprovalRequest,
  type ApprovalState,
  type ProtectedOperation,
} from '@keyledger/domain';
import { ConcurrencyError, type EventStore } from '@keyledger/event-store';
import { KeyRepository } from '../keys/key-repository.js';
import { Principals } from '../principals/principals.js';
import type { RequestContext } from '../shared/context.js';
import { metadataFor } from '../shared/metadata.js';
import { CLOCK, ENGINE_SETTINGS, EVENT_STORE, type Clock, type EngineSettings } from '../shared/tokens.js';
import { commandForApproval } from './approved-operations.js';

export const approvalStream = (approvalId: string): string => `approval-${approvalId}`;
export const APPROVALS_INDEX_STREAM = 'approvals';

export interface ApprovalView extends Omit<ApprovalRequest, 'approvalId' | 'status'> {
  id: string;
  state: ApprovalRequest['status'] | 'expired';
  /** The executed operation's answer (on the approving call that reached quorum). */
  operationResult?: unknown;
}

const APPROVE_ATTEMPTS = 3;

/**
 * Dual control: requests, approvals and denials are events on the request's own stream; the
 * approval that reaches quorum executes the operation on the requester's behalf, exactly once
 * (the append that makes the request `approved` is the only one that can).
 */
@Injectable()
export class Approvals {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ENGINE_SETTINGS) private readonly settings: EngineSettings,
    private readonly keys: KeyRepository,
    private readonly principals: Principals,
    private readonly commands: CommandBus,
  ) {}

  async request(
    input: { operation: ProtectedOperation; keyId: string | null; version: number | null; params: Record<string, unknown> },
    ctx: RequestContext,
  ): Promise<ApprovalView> {
    const { tenantId, operationClass } = await this.checkSubject(input, ctx);
    const approvalId = randomUUID();
    const command: ApprovalCommand = {
      type: 'RequestApproval',
      data: {
        ...input,
        approvalId,
        requestedBy: ctx.actor.principalId,
        tenantId,
        required: this.settings.approvalsRequired[operationClass],
        ttlHours: this.settings.approvalTtlHours,
        now: this.now(),
      },
    };
    const events = decideApproval(command, { status: 'absent' });
    await this.append(approvalId, events, 'no-stream', ctx, tenantId);
    await this.store.appendToStream(APPROVALS_INDEX_STREAM, [{ type: 'ApprovalIndexed', schemaVersion: 1, data: { approvalId }, metadata: metadataFor(ctx, tenantId) }], 'any');
    return this.view(foldApproval(events));
  }

  async approve(approvalId: string, ctx: RequestContext): Promise<ApprovalView> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.approveOnce(approvalId, ctx);
      } catch (error) {
        // Two custodians approving at once touch the same stream; their approvals do not conflict
        // in meaning, so the loser re-reads and tries again (a chosen, bounded retry).
        if (!(error instanceof ConcurrencyError) || attempt >= APPROVE_ATTEMPTS) throw error;
      }
    }
  }

  async deny(approvalId: string, reason: string | null, ctx: RequestContext): Promise<ApprovalView> {
    return this.decideAndAppend(approvalId, ctx, (now) => ({
      type: 'Deny',
      data: { custodian: ctx.actor.principalId, isCustodian: ctx.actor.roles.includes('custodian'), reason, now },
    }));
  }

  async cancel(approvalId: string, ctx: RequestContext): Promise<ApprovalView> {
    return this.decideAndAppend(approvalId, ctx, (now) => ({ type: 'Cancel', data: { by: ctx.actor.principalId, now } }));
  }

  async get(approvalId: string): Promise<ApprovalView> {
    const { state } = await this.load(approvalId);
    return this.view(state);
  }

  async list(): Promise<ApprovalView[]> {
    const index = await this.store.readStream(APPROVALS_INDEX_STREAM);
    const ids = index.map((e) => (e.data as { approvalId: string }).approvalId);
    return Promise.all(ids.map((id) => this.get(id)));
  }

  private async approveOnce(approvalId: string, ctx: RequestContext): Promise<ApprovalView> {
    const { state, revision } = await this.load(approvalId);
    const events = decideApproval(
      { type: 'Approve', data: { custodian: ctx.actor.principalId, isCustodian: ctx.actor.roles.includes('custodian'), now: this.now() } },
      state,
    );
    const tenantId = state.status === 'present' ? state.request.tenantId : null;
    const next = await this.append(approvalId, events, revision, ctx, tenantId);
    const approved = events.reduce(evolveApproval, state);
    if (approved.status !== 'present' || approved.request.status !== 'approved') return this.view(approved);
    return this.execute(approved.request, next, ctx);
  }

  private async execute(request: ApprovalRequest, revision: number, ctx: RequestContext): Promise<ApprovalView> {
    const requester = await this.principals.actorOf(request.requestedBy);
    const onBehalf: RequestContext = { actor: requester, correlationId: ctx.correlationId, idempotencyKey: null, expectedRevision: null, approvalId: request.approvalId };
    let outcome: 'success' | 'failed' = 'success';
    let operationResult: unknown;
    let summary: Record<string, unknown>;
    try {
      operationResult = await this.commands.execute(commandForApproval(request, onBehalf));
      summary = summarize(operationResult);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      outcome = 'failed';
      summary = { code: error.code, message: error.message };
      operationResult = { error: summary };
    }
    const recorded = decideApproval({ type: 'RecordExecution', data: { outcome, result: summary, now: this.now() } }, { status: 'present', request });
    await this.append(request.approvalId, recorded, revision, ctx, request.tenantId);
    return { ...this.view(recorded.reduce(evolveApproval, { status: 'present', request } as ApprovalState)), operationResult };
  }

  private async checkSubject(
    input: { operation: ProtectedOperation; keyId: string | null; params: Record<string, unknown> },
    ctx: RequestContext,
  ): Promise<{ tenantId: string | null; operationClass: 'root' | 'kek' }> {
    if (input.operation === 'generate') {
      if (input.params['purpose'] !== 'root') throw new InvalidInputError('Only the generation of a root key is under dual control');
      return { tenantId: typeof input.params['tenantId'] === 'string' ? input.params['tenantId'] : null, operationClass: 'root' };
    }
    const { key } = await this.keys.load(input.keyId ?? '', ctx, input.operation);
    if (!requiresDualControl(key.purpose, input.operation)) {
      throw new InvalidInputError(`${input.operation} of a ${key.purpose} key does not need approval: call its route directly`);
    }
    return { tenantId: key.tenantId, operationClass: key.purpose === 'root' ? 'root' : 'kek' };
  }

  private async decideAndAppend(approvalId: string, ctx: RequestContext, command: (now: string) => ApprovalCommand): Promise<ApprovalView> {
    const { state, revision } = await this.load(approvalId);
    const events = decideApproval(command(this.now()), state);
    await this.append(approvalId, events, revision, ctx, state.status === 'present' ? state.request.tenantId : null);
    return this.view(events.reduce(evolveApproval, state));
  }

  private async load(approvalId: string): Promise<{ state: ApprovalState; revision: number }> {
    const recorded = await this.store.readStream(approvalStream(approvalId));
    const events = recorded.filter(isApprovalEvent).map((e) => ({ type: e.type, data: e.data }) as ApprovalEvent);
    return { state: foldApproval(events), revision: recorded.length - 1 };
  }

  private async append(approvalId: string, events: ApprovalEvent[], expected: number | 'no-stream', ctx: RequestContext, tenantId: string | null): Promise<number> {
    const result = await this.store.appendToStream(
      approvalStream(approvalId),
      events.map((e) => ({ ...e, schemaVersion: 1, metadata: metadataFor(ctx, tenantId) })),
      expected === -1 ? 'no-stream' : expected,
    );
    return result.nextExpectedRevision;
  }

  private view(state: ApprovalState): ApprovalView {
    if (state.status === 'absent') throw new ApprovalError('APPROVAL.NOT_FOUND', 'No such approval request');
    const { approvalId, status, ...rest } = state.request;
    return { id: approvalId, state: approvalStatusAt(state.request, this.now()), ...rest };
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

const summarize = (result: unknown): Record<string, unknown> => {
  const r = (result ?? {}) as { id?: unknown; currentVersion?: unknown; revision?: unknown };
  return { keyId: r.id ?? null, currentVersion: r.currentVersion ?? null, revision: r.revision ?? null };
};
