import { Inject, Injectable } from '@nestjs/common';
import type { EventStore } from '@keyledger/event-store';
import { ACCESS_DENIALS_STREAM } from '../shared/streams.js';
import { CLOCK, EVENT_STORE, type Clock } from '../shared/tokens.js';
import type { RequestContext } from '../shared/context.js';
import { metadataFor } from '../shared/metadata.js';

/**
 * A principal tried to reach a key of another tenant. It is answered as "not found" (the key's
 * existence must not leak) and recorded, so that the audit view shows the attempt.
 */
export type CrossTenantAccessDenied = {
  type: 'CrossTenantAccessDenied';
  data: { keyId: string; principalId: string; principalTenantId: string | null; operation: string; deniedAt: string };
};

@Injectable()
export class AccessDenials {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async recordCrossTenant(ctx: RequestContext, keyId: string, keyTenantId: string, operation: string): Promise<void> {
    const event: CrossTenantAccessDenied = {
      type: 'CrossTenantAccessDenied',
      data: {
        keyId,
        principalId: ctx.actor.principalId,
        principalTenantId: ctx.actor.tenantId,
        operation,
        deniedAt: this.clock.now().toISOString(),
      },
    };
    // The denial is recorded under the key's tenant: that tenant's auditors must see who probed it.
    await this.store.appendToStream(
      ACCESS_DENIALS_STREAM,
      [{ ...event, schemaVersion: 1, metadata: metadataFor(ctx, keyTenantId) }],
      'any',
    );
  }
}
