import { Injectable } from '@nestjs/common';
import { inventoryColumns, inventoryCursorOf, readInventoryCursor, toPage } from '@keyledger/read-models';
import type { InventoryFilter, InventoryKeyState, InventorySort, Page } from '@keyledger/read-models';
import type { KeyVersionState } from '@keyledger/domain';
import { ReadSideService } from '../read/read-side.service.js';
import { visibleTenant } from '../read/tenant-scope.js';
import type { Actor } from '../shared/context.js';
import { toKeyView, type KeyView } from './key-view.js';

export type { Page } from '@keyledger/read-models';

export interface KeyListFilter extends InventoryFilter {
  limit: number;
  cursor?: string;
  /** The inventory as it was at this instant. */
  at?: Date;
  sort?: InventorySort;
}

/** A key as the inventory lists it: the key's wire shape plus the columns it is filtered and sorted by. */
export type InventoryItem = KeyView & {
  /** State of the current version. */
  state: KeyVersionState;
  /** Whether any version was ever reported compromised. */
  compromised: boolean;
  /** When the active version's originator-usage period ends (null without an active version). */
  rotationDueAt: string | null;
};

export const toInventoryItem = ({ key, revision }: InventoryKeyState): InventoryItem => {
  const { state, compromised, rotationDueAt } = inventoryColumns({ key });
  return { ...toKeyView(key, revision), state, compromised, rotationDueAt };
};

/**
 * The key inventory, read from the checkpointed inventory projection: now, or at an instant from
 * the projection's history of each key. A list first waits for the projection to reach the log's
 * head, so it shows every command acknowledged before it (read-your-writes).
 */
@Injectable()
export class KeyCatalog {
  constructor(private readonly readSide: ReadSideService) {}

  async list(actor: Actor, filter: KeyListFilter): Promise<Page<InventoryItem>> {
    const { limit, cursor, at, sort = 'createdAt', ...criteria } = filter;
    const scope = visibleTenant(actor, criteria.tenantId);
    if (scope === null) return { items: [], nextCursor: null };
    const after = cursor === undefined ? undefined : readInventoryCursor(cursor, sort);
    await this.readSide.caughtUp(['inventory']);
    const rows = await this.readSide.storage.inventory.list({
      ...criteria,
      ...scope,
      ...(criteria.rotationDueBefore === undefined ? {} : { rotationDueBefore: new Date(criteria.rotationDueBefore).toISOString() }),
      ...(at === undefined ? {} : { at: at.toISOString() }),
      ...(after === undefined ? {} : { after }),
      sort,
      limit: limit + 1,
    });
    return toPage(rows, limit, toInventoryItem, (row) => inventoryCursorOf(row, sort));
  }
}
