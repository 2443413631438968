import type { RecordedEvent } from '@keyledger/event-store';
import { canonicalJson } from './canonical-json.js';
import { sha256 } from './hashes.js';
import { hashLeaf } from './merkle/tree-hash.js';

/**
 * What a leaf commits to: every field of a recorded event, and nothing a store adds of its own.
 * The position is part of it, so an event moved to another place in the log no longer matches.
 */
export interface CanonicalEvent {
  readonly position: number;
  readonly eventId: string;
  readonly streamId: string;
  readonly revision: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: unknown;
  readonly metadata: {
    readonly actor: string;
    readonly tenantId: string | null;
    readonly correlationId: string;
    readonly causationId: string | null;
    readonly idempotencyKey: string | null;
    readonly recordedAt: string;
  };
}

export function canonicalEvent(event: RecordedEvent): CanonicalEvent {
  const { actor, tenantId, correlationId, causationId, idempotencyKey, recordedAt } = event.metadata;
  return {
    position: event.position,
    eventId: event.eventId,
    streamId: event.streamId,
    revision: event.revision,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: { actor, tenantId, correlationId, causationId, idempotencyKey, recordedAt },
  };
}

/** The RFC 8785 bytes of the event: the leaf data of the Merkle tree, and a line of an exported bundle. */
export const canonicalEventBytes = (event: CanonicalEvent): Buffer => Buffer.from(canonicalJson(event), 'utf8');

/** The event's leaf hash: SHA-256(0x00 || JCS(event)). */
export const eventLeafHash = (event: CanonicalEvent): Buffer => hashLeaf(canonicalEventBytes(event));

export const recordedEventLeafHash = (event: RecordedEvent): Buffer => eventLeafHash(canonicalEvent(event));

/**
 * The hash chain: each event's chain hash covers its leaf hash and its predecessor's chain hash,
 * SHA-256(0x02 || previous || leaf), starting from 32 zero bytes. The 0x02 prefix keeps a chain
 * value from being read as a Merkle leaf (0x00) or node (0x01).
 */
export const CHAIN_START: Buffer = Buffer.alloc(32);
const CHAIN_PREFIX = Buffer.from([0x02]);
export const nextChainHash = (previous: Buffer, leafHash: Buffer): Buffer => sha256(CHAIN_PREFIX, previous, leafHash);
