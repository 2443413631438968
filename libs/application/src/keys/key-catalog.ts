import { Inject, Injectable } from '@nestjs/common';
import { evolveKey, initialKeyState, isKeyEvent, type KeyEvent, type KeyState, type KeyVersionState } from '@keyledger/domain';
import type { EventStore, RecordedEvent } from '@keyledger/event-store';
import { canSeeTenant, type Actor } from '../shared/context.js';
import { EVENT_STORE } from '../shared/tokens.js';
import { toKeyView, type KeyView } from './key-view.js';

export interface KeyListFilter {
  tenantId?: string;
  purpose?: string;
  state?: KeyVersionState;
  limit: number;
  cursor?: string;
  at?: Date;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type Entry = { state: KeyState; revision: number };
const PAGE = 1000;

/**
 * An in-memory fold of every key stream, caught up from the global log before each list so that
 * a list reflects every command acknowledged before it. The checkpointed inventory projection
 * will take its place; until then this is the simplest thing that is correct across processes.
 */
@Injectable()
export class KeyCatalog {
  private readonly live = new Map<string, Entry>();
  private position = 0;

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async list(actor: Actor, filter: KeyListFilter): Promise<Page<KeyView>> {
    const entries = filter.at ? await this.foldUntil(filter.at) : (await this.catchUp(), this.live);
    const views = [...entries.values()]
      .flatMap((e) => (e.state.status === 'present' ? [toKeyView(e.state.key, e.revision)] : []))
      .filter((v) => canSeeTenant(actor, v.tenantId) && matches(v, filter))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return paginate(views, filter);
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const batch = await this.store.readAll({ after: this.position, maxCount: PAGE });
      for (const event of batch) apply(this.live, event);
      if (batch.length > 0) this.position = batch[batch.length - 1]!.position;
      if (batch.length < PAGE) return;
    }
  }

  private async foldUntil(at: Date): Promise<Map<string, Entry>> {
    const entries = new Map<string, Entry>();
    const limit = at.getTime();
    for (let after = 0; ; ) {
      const batch = await this.store.readAll({ after, maxCount: PAGE });
      for (const event of batch) if (Date.parse(event.metadata.recordedAt) <= limit) apply(entries, event);
      if (batch.length < PAGE) return entries;
      after = batch[batch.length - 1]!.position;
    }
  }
}

const apply = (entries: Map<string, Entry>, event: RecordedEvent): void => {
  if (!isKeyEvent(event)) return;
  const keyId = (event.data as { keyId: string }).keyId;
  const before = entries.get(keyId)?.state ?? initialKeyState();
  entries.set(keyId, { state: evolveKey(before, { type: event.type, data: event.data } as KeyEvent), revision: event.revision });
};

const matches = (view: KeyView, filter: KeyListFilter): boolean => {
  if (filter.tenantId !== undefined && view.tenantId !== filter.tenantId) return false;
  if (filter.purpose !== undefined && view.purpose !== filter.purpose) return false;
  if (filter.state !== undefined) {
    const current = view.versions.find((v) => v.version === view.currentVersion);
    if (current?.state !== filter.state) return false;
  }
  return true;
};

const encodeCursor = (view: KeyView): string =>
  Buffer.from(JSON.stringify([view.createdAt, view.id])).toString('base64url');

export const decodeCursor = (cursor: string): [string, string] | null => {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((p) => typeof p === 'string')) {
      return parsed as [string, string];
    }
  } catch {
    // an unreadable cursor is reported below as invalid input
  }
  return null;
};

const paginate = (views: KeyView[], filter: KeyListFilter): Page<KeyView> => {
  const after = filter.cursor ? decodeCursor(filter.cursor) : null;
  const start = after
    ? views.findIndex((v) => v.createdAt > after[0] || (v.createdAt === after[0] && v.id > after[1]))
    : 0;
  const rest = start < 0 ? [] : views.slice(start);
  const items = rest.slice(0, filter.limit);
  return { items, nextCursor: rest.length > filter.limit ? encodeCursor(items[items.length - 1]!) : null };
};
