import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { EventStore } from '@keyledger/event-store';
import type { Actor, RequestContext } from '../shared/context.js';
import { keyUsageStream } from '../shared/streams.js';
import { EVENT_STORE } from '../shared/tokens.js';
import { KeyCatalog, type KeyListFilter, type Page } from './key-catalog.js';
import { KeyRepository } from './key-repository.js';
import { toKeyView, type KeyView } from './key-view.js';

export class GetKeyQuery {
  constructor(readonly keyId: string, readonly ctx: RequestContext, readonly at?: Date) {}
}

@QueryHandler(GetKeyQuery)
export class GetKeyHandler implements IQueryHandler<GetKeyQuery, KeyView> {
  constructor(private readonly keys: KeyRepository) {}
  async execute({ keyId, ctx, at }: GetKeyQuery): Promise<KeyView> {
    const loaded = await this.keys.load(keyId, ctx, 'read', at);
    return toKeyView(loaded.key, loaded.revision);
  }
}

export class ListKeysQuery {
  constructor(readonly actor: Actor, readonly filter: KeyListFilter) {}
}

@QueryHandler(ListKeysQuery)
export class ListKeysHandler implements IQueryHandler<ListKeysQuery, Page<KeyView>> {
  constructor(private readonly catalog: KeyCatalog) {}
  execute({ actor, filter }: ListKeysQuery): Promise<Page<KeyView>> {
    return this.catalog.list(actor, filter);
  }
}

export interface HistoryEntry {
  position: number;
  revision: number;
  streamId: string;
  type: string;
  recordedAt: string;
  actor: string;
  correlationId: string;
  data: unknown;
}

export class KeyHistoryQuery {
  constructor(readonly keyId: string, readonly ctx: RequestContext, readonly at?: Date) {}
}

/** A key's history: its lifecycle events and its uses, merged in global order. */
@QueryHandler(KeyHistoryQuery)
export class KeyHistoryHandler implements IQueryHandler<KeyHistoryQuery, { events: HistoryEntry[] }> {
  constructor(
    private readonly keys: KeyRepository,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ keyId, ctx, at }: KeyHistoryQuery): Promise<{ events: HistoryEntry[] }> {
    await this.keys.load(keyId, ctx, 'read', at);
    const lifecycle = await this.keys.readEvents(keyId, at);
    const limit = at?.getTime() ?? Infinity;
    const uses = (await this.store.readStream(keyUsageStream(keyId))).filter(
      (e) => Date.parse(e.metadata.recordedAt) <= limit,
    );
    const events = [...lifecycle, ...uses]
      .sort((a, b) => a.position - b.position)
      .map((e) => ({
        position: e.position,
        revision: e.revision,
        streamId: e.streamId,
        type: e.type,
        recordedAt: e.metadata.recordedAt,
        actor: e.metadata.actor,
        correlationId: e.metadata.correlationId,
        data: e.data,
      }));
    return { events };
  }
}
