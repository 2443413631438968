import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ConcurrencyError, type EventStore, type RecordedEvent } from '@keyledger/event-store';
import { SYSTEM_ACTOR, type Actor, type RequestContext, type Role } from '../shared/context.js';
import { PrincipalNotFoundError } from '../shared/errors.js';
import { PRINCIPALS_STREAM } from '../shared/streams.js';
import { CLOCK, EVENT_STORE, type Clock } from '../shared/tokens.js';

export type PrincipalRegistered = {
  type: 'PrincipalRegistered';
  data: { principalId: string; name: string; roles: Role[]; tenantId: string | null; tokenHash: string; registeredAt: string };
};
export type PrincipalRevoked = { type: 'PrincipalRevoked'; data: { principalId: string; revokedAt: string } };
export type PrincipalTokenRotated = { type: 'PrincipalTokenRotated'; data: { principalId: string; tokenHash: string; rotatedAt: string } };
type PrincipalEvent = PrincipalRegistered | PrincipalRevoked | PrincipalTokenRotated;

export interface PrincipalView {
  id: string;
  name: string;
  roles: Role[];
  tenantId: string | null;
  registeredAt: string;
  revokedAt: string | null;
}

/** Bearer tokens are random 256-bit strings; only their SHA-256 is ever stored. */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
export const newToken = (): string => `klt_${randomBytes(32).toString('base64url')}`;

/**
 * Principals are events on one stream, folded into memory. Every authentication first reads the
 * events appended since the last one (usually none), so that a principal added, revoked or given
 * a new token by another process (the CLI, a second server) takes effect at once here too.
 */
@Injectable()
export class Principals {
  private readonly byId = new Map<string, PrincipalView & { tokenHash: string }>();
  private revision = -1;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async authenticate(token: string): Promise<Actor | null> {
    await this.refresh();
    const found = this.findByHash(hashToken(token));
    if (!found || found.revokedAt) return null;
    return { principalId: found.id, name: found.name, roles: found.roles, tenantId: found.tenantId };
  }

  /** The actor a principal acts as, for work done on its behalf later (an approved request). */
  async actorOf(principalId: string): Promise<Actor> {
    await this.refresh();
    const p = this.byId.get(principalId);
    if (!p || p.revokedAt) throw new PrincipalNotFoundError(principalId);
    return { principalId: p.id, name: p.name, roles: p.roles, tenantId: p.tenantId };
  }

  add(
    input: { name: string; roles: Role[]; tenantId: string | null; token?: string },
    ctx: Pick<RequestContext, 'actor' | 'correlationId'> = { actor: SYSTEM_ACTOR, correlationId: randomUUID() },
  ): Promise<{ principal: PrincipalView; token: string }> {
    return this.register(input, ctx, 'any');
  }

  private async register(
    input: { name: string; roles: Role[]; tenantId: string | null; token?: string },
    ctx: Pick<RequestContext, 'actor' | 'correlationId'>,
    expected: 'any' | 'no-stream',
  ): Promise<{ principal: PrincipalView; token: string }> {
    const token = input.token ?? newToken();
    const event: PrincipalRegistered = {
      type: 'PrincipalRegistered',
      data: {
        principalId: randomUUID(),
        name: input.name,
        roles: [...new Set(input.roles)],
        tenantId: input.tenantId,
        tokenHash: hashToken(token),
        registeredAt: this.clock.now().toISOString(),
      },
    };
    await this.append(event, ctx, expected);
    await this.refresh();
    return { principal: this.view(event.data.principalId), token };
  }

  async revoke(principalId: string, ctx: Pick<RequestContext, 'actor' | 'correlationId'>): Promise<PrincipalView> {
    await this.refresh();
    if (!this.byId.has(principalId)) throw new PrincipalNotFoundError(principalId);
    await this.append({ type: 'PrincipalRevoked', data: { principalId, revokedAt: this.clock.now().toISOString() } }, ctx);
    await this.refresh();
    return this.view(principalId);
  }

  /** A new token for a principal; the old one stops working. */
  async rotateToken(principalId: string, ctx: Pick<RequestContext, 'actor' | 'correlationId'>): Promise<{ principal: PrincipalView; token: string }> {
    await this.refresh();
    const existing = this.byId.get(principalId);
    if (!existing || existing.revokedAt) throw new PrincipalNotFoundError(principalId);
    const token = newToken();
    await this.append({ type: 'PrincipalTokenRotated', data: { principalId, tokenHash: hashToken(token), rotatedAt: this.clock.now().toISOString() } }, ctx);
    await this.refresh();
    return { principal: this.view(principalId), token };
  }

  async list(): Promise<PrincipalView[]> {
    await this.refresh();
    return [...this.byId.keys()].map((id) => this.view(id));
  }

  /**
   * Creates the bootstrap admin when no principal exists; returns its token, or null. The append
   * expects an empty stream, so of several processes starting together on one store, one creates it.
   */
  async bootstrapAdmin(token: string | undefined): Promise<{ token: string; generated: boolean } | null> {
    await this.refresh();
    if (this.byId.size > 0) return null;
    const admin = { name: 'bootstrap-admin', roles: ['key-admin', 'custodian', 'auditor', 'operator'] as Role[], tenantId: null, ...(token ? { token } : {}) };
    try {
      const created = await this.register(admin, { actor: SYSTEM_ACTOR, correlationId: randomUUID() }, 'no-stream');
      return { token: created.token, generated: token === undefined };
    } catch (error) {
      if (error instanceof ConcurrencyError) return null;
      throw error;
    }
  }

  private async append(
    event: PrincipalEvent,
    ctx: Pick<RequestContext, 'actor' | 'correlationId'>,
    expected: 'any' | 'no-stream' = 'any',
  ): Promise<void> {
    await this.store.appendToStream(
      PRINCIPALS_STREAM,
      [
        {
          ...event,
          schemaVersion: 1,
          metadata: { actor: ctx.actor.principalId, tenantId: null, correlationId: ctx.correlationId, causationId: null, idempotencyKey: null },
        },
      ],
      expected,
    );
  }

  private async refresh(): Promise<void> {
    const events = await this.store.readStream(PRINCIPALS_STREAM, { fromRevision: this.revision + 1 });
    for (const e of events) this.apply(e);
    if (events.length > 0) this.revision = events[events.length - 1]!.revision;
  }

  private apply(recorded: RecordedEvent): void {
    const event = { type: recorded.type, data: recorded.data } as PrincipalEvent;
    switch (event.type) {
      case 'PrincipalRegistered': {
        const { principalId, tokenHash, ...rest } = event.data;
        this.byId.set(principalId, { id: principalId, tokenHash, revokedAt: null, ...rest });
        return;
      }
      case 'PrincipalRevoked': {
        const existing = this.byId.get(event.data.principalId);
        if (existing) this.byId.set(existing.id, { ...existing, revokedAt: event.data.revokedAt });
        return;
      }
      case 'PrincipalTokenRotated': {
        const existing = this.byId.get(event.data.principalId);
        if (existing) this.byId.set(existing.id, { ...existing, tokenHash: event.data.tokenHash });
        return;
      }
      default: {
        const _exhaustive: never = event;
        return _exhaustive;
      }
    }
  }

  private findByHash(hash: string): (PrincipalView & { tokenHash: string }) | undefined {
    const wanted = Buffer.from(hash, 'hex');
    for (const p of this.byId.values()) {
      if (timingSafeEqual(Buffer.from(p.tokenHash, 'hex'), wanted)) return p;
    }
    return undefined;
  }

  private view(id: string): PrincipalView {
    const p = this.byId.get(id);
    if (!p) throw new PrincipalNotFoundError(id);
    const { tokenHash: _hidden, ...view } = p;
    return view;
  }
}
