import { evolveKey, initialKeyState, type KeyEvent, type KeyState } from '@keyledger/domain';
import type { EventStore, RecordedEvent } from '@keyledger/event-store';
import { asProjectedEvent, isKeyLifecycleEvent } from '../events.js';
import type { InventoryKeyState } from '../inventory/inventory-query.js';

/**
 * Point-in-time replay straight from the log, without any read model: every key event recorded at
 * or before `at` is folded with the domain's evolve. It is how `keyledger audit replay` answers,
 * and the independent check that the inventory's history says the same.
 */
export class KeyReplay {
  private readonly keys = new Map<string, { state: KeyState; revision: number }>();
  private readonly until: number;

  constructor(at: string) {
    this.until = Date.parse(at);
  }

  apply(events: readonly RecordedEvent[]): void {
    for (const recorded of events) {
      const event = asProjectedEvent(recorded);
      if (!event || !isKeyLifecycleEvent(event) || Date.parse(recorded.metadata.recordedAt) > this.until) continue;
      const before = this.keys.get(event.data.keyId)?.state ?? initialKeyState();
      const state = evolveKey(before, { type: event.type, data: event.data } as KeyEvent);
      this.keys.set(event.data.keyId, { state, revision: recorded.revision });
    }
  }

  /** Keys that existed at the instant, ordered as the inventory orders them by default. */
  keysAt(): InventoryKeyState[] {
    return [...this.keys.values()]
      .flatMap(({ state, revision }) => (state.status === 'present' ? [{ key: state.key, revision }] : []))
      .sort((a, b) => compareText(a.key.createdAt, b.key.createdAt) || compareText(a.key.keyId, b.key.keyId));
  }
}

export interface ReplayProgress {
  readonly position: number;
  readonly head: number;
}

/** The whole inventory at `at`, folded from the global log page by page. */
export async function replayInventory(
  store: EventStore,
  at: string,
  onProgress: (progress: ReplayProgress) => void = () => undefined,
  pageSize = 5_000,
): Promise<InventoryKeyState[]> {
  const replay = new KeyReplay(at);
  const head = await store.headPosition();
  for (let after = 0; ; ) {
    const page = await store.readAll({ after, maxCount: pageSize });
    replay.apply(page);
    if (page.length === 0) break;
    after = page[page.length - 1]!.position;
    onProgress({ position: after, head });
    if (page.length < pageSize) break;
  }
  return replay.keysAt();
}

/** Code-unit order, as the read-model stores sort text (not the locale's collation). */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
