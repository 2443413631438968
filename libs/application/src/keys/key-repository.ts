import { Inject, Injectable } from '@nestjs/common';
import {
  KEY_EVENT_TYPES,
  KeyNotFoundError,
  evolveKey,
  initialKeyState,
  isKeyEvent,
  type Key,
  type KeyEvent,
  type KeyState,
} from '@keyledger/domain';
import type { EventStore, RecordedEvent } from '@keyledger/event-store';
import { AccessDenials } from '../access/access-denials.js';
import { canSeeTenant, type RequestContext } from '../shared/context.js';
import { toNewEvent, metadataFor } from '../shared/metadata.js';
import { keyStream } from '../shared/streams.js';
import { EVENT_STORE } from '../shared/tokens.js';

export interface LoadedKey {
  readonly key: Key;
  /** Revision of the key stream's last event: the expected revision of the next append. */
  readonly revision: number;
}

export const foldRecorded = (events: readonly RecordedEvent[]): KeyState =>
  events.reduce<KeyState>(
    (state, e) => (isKeyEvent(e) ? evolveKey(state, { type: e.type, data: e.data } as KeyEvent) : state),
    initialKeyState(),
  );

/** Reads and appends key streams, and keeps tenants apart: another tenant's key is "not found". */
@Injectable()
export class KeyRepository {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly denials: AccessDenials,
  ) {}

  /** Loads a key the actor may see, or throws KeyNotFoundError (recording cross-tenant attempts). */
  async load(keyId: string, ctx: RequestContext, operation: string, at?: Date): Promise<LoadedKey> {
    const events = await this.readEvents(keyId, at);
    const state = foldRecorded(events);
    if (state.status === 'absent') throw new KeyNotFoundError(keyId);
    if (!canSeeTenant(ctx.actor, state.key.tenantId)) {
      await this.denials.recordCrossTenant(ctx, keyId, state.key.tenantId, operation);
      throw new KeyNotFoundError(keyId);
    }
    return { key: state.key, revision: events[events.length - 1]!.revision };
  }

  async readEvents(keyId: string, at?: Date): Promise<RecordedEvent[]> {
    const events = await this.store.readStream(keyStream(keyId));
    if (!at) return events;
    const limit = at.getTime();
    return events.filter((e) => Date.parse(e.metadata.recordedAt) <= limit);
  }

  /** Appends decided events; returns the key as it is after them, with its new revision. */
  async append(
    keyId: string,
    events: readonly KeyEvent[],
    expectedRevision: number | 'no-stream',
    ctx: RequestContext,
    tenantId: string,
    before: KeyState = initialKeyState(),
  ): Promise<LoadedKey> {
    const metadata = metadataFor(ctx, tenantId);
    const result = await this.store.appendToStream(
      keyStream(keyId),
      events.map((e) => toNewEvent(e, KEY_EVENT_TYPES[e.type].schemaVersion, metadata)),
      expectedRevision,
    );
    const after = events.reduce(evolveKey, before);
    if (after.status === 'absent') throw new KeyNotFoundError(keyId);
    return { key: after.key, revision: result.nextExpectedRevision };
  }
}
