import type { EventMetadata, NewEvent } from '@keyledger/event-store';
import type { RequestContext } from './context.js';

export const metadataFor = (ctx: RequestContext, tenantId: string | null): EventMetadata => ({
  actor: ctx.actor.principalId,
  tenantId,
  correlationId: ctx.correlationId,
  causationId: null,
  idempotencyKey: ctx.idempotencyKey,
});

export const toNewEvent = (
  event: { type: string; data: unknown },
  schemaVersion: number,
  metadata: EventMetadata,
): NewEvent => ({ type: event.type, schemaVersion, data: event.data, metadata });
