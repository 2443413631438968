import { Inject, Injectable } from '@nestjs/common';
import { evolveKey, initialKeyState, isKeyEvent, type Key, type KeyEvent, type KeyState, type KeyVersion } from '@keyledger/domain';
import type { EventStore, RecordedEvent } from '@keyledger/event-store';
import { EVENT_STORE } from '../../shared/tokens.js';
import { isDekRewrapEvent } from './events.js';

/** A version of a child key (a DEK under a KEK, a KEK under a root) and the parent version that wraps it now. */
export interface ChildVersion {
  readonly key: Key;
  readonly version: KeyVersion;
  /** The parent version whose material seals this version's material today (after any rewrap). */
  readonly parentVersion: number | null;
}

const wrapKey = (keyId: string, version: number): string => `${keyId}#${version}`;

/**
 * Which key version wraps which, folded from the log: the parent version recorded when a version
 * was created, updated by every DekRewrapped. Pure and incremental (apply one event at a time),
 * so that it can become a checkpointed projection without change.
 */
export class HierarchyFold {
  private readonly keys = new Map<string, KeyState>();
  private readonly childrenOf = new Map<string, Set<string>>();
  private readonly rewrappedTo = new Map<string, number>();
  private applied = 0;

  get position(): number {
    return this.applied;
  }

  apply(event: RecordedEvent): void {
    if (event.position <= this.applied) return;
    this.applied = event.position;
    if (isKeyEvent(event)) this.applyKeyEvent({ type: event.type, data: event.data } as KeyEvent);
    else if (isDekRewrapEvent(event) && event.type === 'DekRewrapped') {
      this.rewrappedTo.set(wrapKey(event.data.dekId, event.data.dekVersion), event.data.toKekVersion);
    }
  }

  key(keyId: string): Key | undefined {
    const state = this.keys.get(keyId);
    return state?.status === 'present' ? state.key : undefined;
  }

  allKeys(): Key[] {
    return [...this.keys.values()].flatMap((state) => (state.status === 'present' ? [state.key] : []));
  }

  /** Every version of every direct child of `parentId`, with the parent version that wraps it now. */
  children(parentId: string): ChildVersion[] {
    return [...(this.childrenOf.get(parentId) ?? [])].flatMap((childId) => {
      const key = this.key(childId);
      if (key === undefined) return [];
      return key.versions.map((version) => ({
        key,
        version,
        parentVersion: this.rewrappedTo.get(wrapKey(key.keyId, version.version)) ?? version.parentVersion,
      }));
    });
  }

  private applyKeyEvent(event: KeyEvent): void {
    const keyId = event.data.keyId;
    const state = evolveKey(this.keys.get(keyId) ?? initialKeyState(), event);
    this.keys.set(keyId, state);
    if (event.type === 'KeyGenerated' && event.data.parentKeyId !== null) {
      const siblings = this.childrenOf.get(event.data.parentKeyId) ?? new Set<string>();
      siblings.add(keyId);
      this.childrenOf.set(event.data.parentKeyId, siblings);
    }
  }
}

const PAGE = 1000;

/**
 * The hierarchy as of now (caught up from the log before each use) or as of a past position.
 * Until the lineage projection serves it, this folds the global log in memory.
 */
@Injectable()
export class KeyHierarchy {
  private readonly live = new HierarchyFold();
  private catchingUp: Promise<void> = Promise.resolve();

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** Caught up to the log's head; concurrent callers share one catch-up. */
  async current(): Promise<HierarchyFold> {
    // A failed catch-up must not poison the next one: it starts again from the last applied event.
    this.catchingUp = this.catchingUp.catch(() => undefined).then(() => foldInto(this.store, this.live, Number.MAX_SAFE_INTEGER));
    await this.catchingUp;
    return this.live;
  }

  /** The hierarchy as it was once every event up to `position` (inclusive) was applied. */
  async asOf(position: number): Promise<HierarchyFold> {
    const fold = new HierarchyFold();
    await foldInto(this.store, fold, position);
    return fold;
  }
}

async function foldInto(store: EventStore, fold: HierarchyFold, until: number): Promise<void> {
  for (;;) {
    const batch = await store.readAll({ after: fold.position, maxCount: PAGE });
    for (const event of batch) {
      if (event.position > until) return;
      fold.apply(event);
    }
    if (batch.length < PAGE) return;
  }
}
