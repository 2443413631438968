import type { EventMetadata, NewEvent } from './port.js';

/**
 * An event turned into column values before it is queued, so bad input fails its caller alone.
 * Shared by the adapters that store events as rows (SQLite, PostgreSQL).
 */
export interface SerializedEvent {
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: string;
  readonly metadata: string;
}

export function serializeEvent(event: NewEvent): SerializedEvent {
  const data = JSON.stringify(event.data);
  if (data === undefined) throw new TypeError(`Event ${event.type} has data that is not JSON`);
  return { type: event.type, schemaVersion: event.schemaVersion, data, metadata: serializeMetadata(event.metadata) };
}

/** Only the port's fields are stored, whatever else the object carries. */
function serializeMetadata(metadata: EventMetadata): string {
  const { actor, tenantId, correlationId, causationId, idempotencyKey } = metadata;
  return JSON.stringify({ actor, tenantId, correlationId, causationId, idempotencyKey });
}
