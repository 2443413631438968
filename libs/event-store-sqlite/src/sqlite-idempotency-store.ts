import { type IdempotencyRecord, type IdempotencyStore, type ReserveResult, toIdempotencyRecord, type IdempotencyRow } from '@keyledger/event-store';
import { openSqliteDatabase, type SqliteDatabase } from './sqlite-database.js';

const schema = `
  CREATE TABLE IF NOT EXISTS idempotency (
    scope         TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    request_hash  TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('pending', 'completed')),
    status_code   INTEGER,
    response_body TEXT,
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (scope, key)
  )`;


/**
 * Idempotency records in SQLite. Usually shares the event store's handle
 * (`new SqliteIdempotencyStore(eventStore.database)`), which the event store closes; `open` gives a
 * store with its own handle, closed by `close()`.
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly insertPending;
  private readonly selectRecord;
  private readonly updateCompleted;
  private readonly deletePending;
  private readonly reserveAtomically;
  private ownsDatabase = false;

  /** Opens (and creates) the file with its own handle, for use without an event store. */
  static open(filePath: string, busyTimeoutMs = 5_000): SqliteIdempotencyStore {
    const database = openSqliteDatabase(filePath, busyTimeoutMs);
    try {
      const store = new SqliteIdempotencyStore(database);
      store.ownsDatabase = true;
      return store;
    } catch (error) {
      database.close();
      throw error;
    }
  }

  /** Uses a handle opened elsewhere (normally `SqliteEventStore.database`); its opener closes it. */
  constructor(private readonly database: SqliteDatabase) {
    database.exec(schema);
    // ON CONFLICT DO NOTHING makes the reservation atomic across processes: one insert wins.
    this.insertPending = database.prepare<[string, string, string, string]>(
      `INSERT INTO idempotency (scope, key, request_hash, state, created_at) VALUES (?, ?, ?, 'pending', ?)
       ON CONFLICT (scope, key) DO NOTHING`,
    );
    this.selectRecord = database.prepare<[string, string], IdempotencyRow>(
      'SELECT scope, key, request_hash, state, status_code, response_body, created_at FROM idempotency WHERE scope = ? AND key = ?',
    );
    this.updateCompleted = database.prepare<[number, string, string, string]>(
      `UPDATE idempotency SET state = 'completed', status_code = ?, response_body = ? WHERE scope = ? AND key = ?`,
    );
    this.deletePending = database.prepare<[string, string]>(
      `DELETE FROM idempotency WHERE scope = ? AND key = ? AND state = 'pending'`,
    );
    // Insert and read back in one transaction, so a release by another process cannot slip between.
    this.reserveAtomically = database.transaction((scope: string, key: string, requestHash: string, now: string) =>
      this.insertOrRead(scope, key, requestHash, now),
    );
  }

  async reserve(scope: string, key: string, requestHash: string, now: string): Promise<ReserveResult> {
    return this.reserveAtomically.immediate(scope, key, requestHash, now);
  }

  async complete(scope: string, key: string, statusCode: number, responseBody: string): Promise<void> {
    const { changes } = this.updateCompleted.run(statusCode, responseBody, scope, key);
    if (changes === 0) throw new Error(`No idempotency reservation for ${scope}/${key} to complete`);
  }

  async release(scope: string, key: string): Promise<void> {
    this.deletePending.run(scope, key);
  }

  async get(scope: string, key: string): Promise<IdempotencyRecord | null> {
    const row = this.selectRecord.get(scope, key);
    return row ? toIdempotencyRecord(row) : null;
  }

  /** Closes the handle only if this store opened it. */
  async close(): Promise<void> {
    if (this.ownsDatabase && this.database.open) this.database.close();
  }

  private insertOrRead(scope: string, key: string, requestHash: string, now: string): ReserveResult {
    if (this.insertPending.run(scope, key, requestHash, now).changes === 1) return { outcome: 'reserved' };
    const existing = this.selectRecord.get(scope, key);
    if (!existing) throw new Error(`Idempotency record ${scope}/${key} vanished inside its transaction`);
    return { outcome: 'exists', record: toIdempotencyRecord(existing) };
  }
}
