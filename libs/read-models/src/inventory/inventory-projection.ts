import { asProjectedEvent, isKeyLifecycleEvent, type ProjectedEvent } from '../events.js';
import type { Projection } from '../runner/projection.js';
import type { InventoryChange } from '../storage/port.js';
import { evolveInventoryKey, rewrapInventoryKey, type InventoryKeyDocument } from './inventory-document.js';

/** The key an event changes in the inventory: lifecycle events, and rewraps of a DEK under a newer KEK version. */
const keyIdOf = (event: ProjectedEvent): string | null =>
  isKeyLifecycleEvent(event) ? event.data.keyId : event.type === 'DekRewrapped' ? event.data.dekId : null;

/** The key inventory: one document per key, and every state it went through (for `?at=`). */
export const inventoryProjection: Projection = {
  name: 'inventory',
  async project(events, storage) {
    const relevant = events.flatMap((recorded) => {
      const event = asProjectedEvent(recorded);
      return event && keyIdOf(event) !== null ? [event] : [];
    });
    const documents = await storage.inventory.current(relevant.map((event) => keyIdOf(event)!));
    const changes: InventoryChange[] = [];
    for (const event of relevant) {
      const change = evolveDocument(documents.get(keyIdOf(event)!) ?? null, event);
      if (change === null) continue;
      documents.set(change.doc.key.keyId, change.doc);
      changes.push(change);
    }
    return { projection: 'inventory', changes };
  },
};

function evolveDocument(doc: InventoryKeyDocument | null, event: ProjectedEvent): InventoryChange | null {
  if (isKeyLifecycleEvent(event)) return { doc: evolveInventoryKey(doc, event), opensInterval: true };
  // A rewrap of a key the inventory does not hold is impossible in a consistent log; nothing to change.
  if (event.type === 'DekRewrapped' && doc !== null) return { doc: rewrapInventoryKey(doc, event), opensInterval: false };
  return null;
}
