import { Inject, Injectable } from '@nestjs/common';
import type { KeyUseEvent, KeyUseOperation } from '@keyledger/domain';
import type { EventStore } from '@keyledger/event-store';
import type { RequestContext } from '../shared/context.js';
import { metadataFor } from '../shared/metadata.js';
import { keyUsageStream } from '../shared/streams.js';
import { CLOCK, EVENT_STORE, type Clock } from '../shared/tokens.js';

export type { KeyUseOperation, KeyUsed, KeyUseDenied, KeyUseFailed, KeyUseEvent } from '@keyledger/domain';


/**
 * Use events go to the key's usage stream with `any` as expected revision: two services using
 * one key never conflict with each other nor with lifecycle commands on the key's own stream.
 */
@Injectable()
export class UsageLog {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async used(
    ctx: RequestContext,
    tenantId: string,
    use: { keyId: string; version: number; operation: KeyUseOperation; recipientId?: string; fromVersion?: number },
  ): Promise<void> {
    await this.record(ctx, tenantId, {
      type: 'KeyUsed',
      data: { ...use, recipientId: use.recipientId ?? null, usedAt: this.clock.now().toISOString() },
    });
  }

  async failed(
    ctx: RequestContext,
    tenantId: string,
    use: { keyId: string; version: number; operation: KeyUseOperation; code: string; reason: string },
  ): Promise<void> {
    await this.record(ctx, tenantId, { type: 'KeyUseFailed', data: { ...use, failedAt: this.clock.now().toISOString() } });
  }

  async denied(
    ctx: RequestContext,
    tenantId: string,
    use: { keyId: string; version: number | null; operation: KeyUseOperation; code: string; reason: string },
  ): Promise<void> {
    await this.record(ctx, tenantId, { type: 'KeyUseDenied', data: { ...use, deniedAt: this.clock.now().toISOString() } });
  }

  private async record(ctx: RequestContext, tenantId: string, event: KeyUseEvent): Promise<void> {
    await this.store.appendToStream(
      keyUsageStream(event.data.keyId),
      [{ ...event, schemaVersion: 1, metadata: metadataFor(ctx, tenantId) }],
      'any',
    );
  }
}
