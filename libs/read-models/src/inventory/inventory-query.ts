import type { Key } from '@keyledger/domain';
import { decodeCursor } from '../paging.js';
import { inventoryColumns, type InventoryKeyDocument } from './inventory-document.js';

/** Orders of the inventory; a leading `-` means descending. Ties are broken by key id. */
export const INVENTORY_SORTS = ['createdAt', '-createdAt', 'rotationDueAt', '-rotationDueAt', 'tenantId', '-tenantId'] as const;
export type InventorySort = (typeof INVENTORY_SORTS)[number];

export interface InventoryFilter {
  readonly tenantId?: string;
  readonly purpose?: string;
  /** State of the current version. */
  readonly state?: string;
  readonly classification?: string;
  /** Name of a vendor integration, e.g. `aws-bedrock`. */
  readonly vendor?: string;
  readonly custodian?: string;
  /** Active versions whose originator-usage period ends before this instant. */
  readonly rotationDueBefore?: string;
  readonly compromised?: boolean;
}

/** Where the previous page ended, in the order it was sorted by. */
export interface InventoryCursor {
  readonly sort: InventorySort;
  readonly value: string;
  readonly keyId: string;
}

export interface InventoryQuery extends InventoryFilter {
  readonly sort: InventorySort;
  readonly limit: number;
  readonly after?: InventoryCursor;
  /** The inventory as it was at this instant (ISO-8601) instead of now. */
  readonly at?: string;
}

/** What a list returns per key, now or at an instant: the key and its stream revision. */
export interface InventoryKeyState {
  readonly key: Key;
  readonly revision: number;
}

/** Rotation due dates sort after every date when there is none (no active version). */
export const NO_ROTATION_DUE = '~';

export const sortField = (sort: InventorySort): 'createdAt' | 'rotationDueAt' | 'tenantId' =>
  sort.replace(/^-/, '') as 'createdAt' | 'rotationDueAt' | 'tenantId';

export const sortValue = (state: Pick<InventoryKeyDocument, 'key'>, sort: InventorySort): string => {
  const columns = inventoryColumns(state);
  const field = sortField(sort);
  switch (field) {
    case 'createdAt':
      return columns.createdAt;
    case 'rotationDueAt':
      return columns.rotationDueAt ?? NO_ROTATION_DUE;
    case 'tenantId':
      return columns.tenantId;
    default: {
      const _exhaustive: never = field;
      throw new Error(`Unknown sort ${String(_exhaustive)}`);
    }
  }
};

export const inventoryCursorOf = (state: InventoryKeyState, sort: InventorySort): InventoryCursor => ({
  sort,
  value: sortValue(state, sort),
  keyId: state.key.keyId,
});

/** Reads a client's cursor; it must come from a list sorted the same way. */
export const readInventoryCursor = (cursor: string, sort: InventorySort): InventoryCursor =>
  decodeCursor(cursor, (value): value is InventoryCursor => {
    const c = value as Partial<InventoryCursor> | null;
    return typeof c === 'object' && c !== null && c.sort === sort && typeof c.value === 'string' && typeof c.keyId === 'string';
  });
