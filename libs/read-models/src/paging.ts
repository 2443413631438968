import { InvalidInputError } from '@keyledger/domain';

/** A page of a read model: `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Cursors are opaque to clients: base64url of a small JSON value naming where the page ended. */
export const encodeCursor = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export function decodeCursor<T>(cursor: string, isValid: (value: unknown) => value is T): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!isValid(parsed)) throw new InvalidInputError('cursor is not a cursor this query returned', { field: 'cursor' });
  return parsed;
}

/** Splits rows fetched with `limit + 1` into a page, the cursor taken from the last item kept. */
export function toPage<Row, Item>(rows: readonly Row[], limit: number, item: (row: Row) => Item, cursorOf: (row: Row) => unknown): Page<Item> {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return { items: kept.map(item), nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null };
}
