import { type IdempotencyRecord, type IdempotencyStore, type ReserveResult, toIdempotencyRecord, type IdempotencyRow } from '@keyledger/event-store';
import type { PostgresDatabase } from './postgres-database.js';

const columns = 'scope, key, request_hash, state, status_code, response_body, created_at';
/** A reservation that vanishes between our insert and our read was released; this many retries is plenty. */
const RESERVE_ATTEMPTS = 5;

/**
 * Idempotency records in the event store's PostgreSQL database, so that a retry sent to another
 * API process, or after a restart, finds the first answer. Uses the database opened by the event
 * store (`new PostgresIdempotencyStore(eventStore.database)`), which closes it.
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  constructor(private readonly database: PostgresDatabase) {}

  /**
   * ON CONFLICT DO NOTHING makes one insert win across processes; the losers read the winner's
   * record in a second statement, which (READ COMMITTED) sees it committed. If the winner
   * released it in between, the loser simply tries again.
   */
  async reserve(scope: string, key: string, requestHash: string, now: string): Promise<ReserveResult> {
    for (let attempt = 0; attempt < RESERVE_ATTEMPTS; attempt++) {
      const inserted = await this.database.query(
        `INSERT INTO ${this.table} (scope, key, request_hash, state, created_at) VALUES ($1, $2, $3, 'pending', $4)
         ON CONFLICT (scope, key) DO NOTHING`,
        [scope, key, requestHash, now],
      );
      if (inserted.rowCount === 1) return { outcome: 'reserved' };
      const existing = await this.get(scope, key);
      if (existing) return { outcome: 'exists', record: existing };
    }
    throw new Error(`Idempotency record ${scope}/${key} kept being released while reserving it`);
  }

  async complete(scope: string, key: string, statusCode: number, responseBody: string): Promise<void> {
    const { rowCount } = await this.database.query(
      `UPDATE ${this.table} SET state = 'completed', status_code = $1, response_body = $2 WHERE scope = $3 AND key = $4`,
      [statusCode, responseBody, scope, key],
    );
    if (rowCount === 0) throw new Error(`No idempotency reservation for ${scope}/${key} to complete`);
  }

  async release(scope: string, key: string): Promise<void> {
    await this.database.query(`DELETE FROM ${this.table} WHERE scope = $1 AND key = $2 AND state = 'pending'`, [scope, key]);
  }

  async get(scope: string, key: string): Promise<IdempotencyRecord | null> {
    const { rows } = await this.database.query<IdempotencyRow>(`SELECT ${columns} FROM ${this.table} WHERE scope = $1 AND key = $2`, [
      scope,
      key,
    ]);
    return rows[0] ? toIdempotencyRecord(rows[0]) : null;
  }

  private get table(): string {
    return this.database.tables.idempotency;
  }
}
