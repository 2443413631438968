import pg from 'pg';
import type { PoolClient, QueryResult, QueryResultRow } from 'pg';
import { migrate } from './migrations.js';
import { DEFAULT_SCHEMA, tableNames, type TableNames } from './table-names.js';

export interface PostgresDatabaseOptions {
  /** `postgres://user:password@host:port/database`; never logged (it may carry a password). */
  readonly connectionString: string;
  /** Schema holding keyledger's tables (default `keyledger`); tests use one schema each. */
  readonly schema?: string;
  /** Connections per process. Appends use one at a time (group commit); reads use the rest. */
  readonly poolSize?: number;
  /** How long to wait for a connection before failing, rather than hanging on a dead server. */
  readonly connectTimeoutMs?: number;
  /** Server-side cap on one statement, so a stuck lock turns into an error instead of a hang. */
  readonly statementTimeoutMs?: number;
}

const defaults = { schema: DEFAULT_SCHEMA, poolSize: 10, connectTimeoutMs: 10_000, statementTimeoutMs: 30_000 };

/**
 * One PostgreSQL database shared by the event store, the idempotency store and the key-material
 * store of a process: one pool, one schema, migrated once. Opening is synchronous (the pool
 * connects lazily); every query waits for the migrations, and `ready()` surfaces their failure
 * at start.
 */
export class PostgresDatabase {
  readonly tables: TableNames;
  private readonly pool: pg.Pool;
  private readonly migrated: Promise<void>;
  private closed = false;

  static open(options: PostgresDatabaseOptions): PostgresDatabase {
    return new PostgresDatabase({ ...defaults, ...options });
  }

  private constructor(settings: Required<PostgresDatabaseOptions>) {
    this.tables = tableNames(settings.schema);
    this.pool = new pg.Pool({
      connectionString: settings.connectionString,
      max: settings.poolSize,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      statement_timeout: settings.statementTimeoutMs,
      // A process paused or partitioned inside a transaction would hold the log head's lock and
      // stop every writer; the server ends such a session instead.
      idle_in_transaction_session_timeout: settings.statementTimeoutMs,
      application_name: 'keyledger',
    });
    // An idle connection dropped by the server (restart, failover) is discarded by the pool and
    // replaced on next use; without a listener that event would crash the process.
    this.pool.on('error', () => undefined);
    this.migrated = this.withClient((client) => migrate(client, this.tables));
    // Observed by ready() and by every query; this keeps an early failure from being "unhandled".
    this.migrated.catch(() => undefined);
  }

  /** Resolves once the schema is migrated; rejects with the reason it cannot be. */
  ready(): Promise<void> {
    return this.migrated;
  }

  async query<Row extends QueryResultRow>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    this.assertOpen();
    await this.migrated;
    return this.pool.query<Row>(sql, params as unknown[]);
  }

  /** Runs `work` on one connection of the pool (for transactions), after the migrations. */
  async transactionClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    await this.migrated;
    return this.withClient(work);
  }

  /** Waits for queries in flight, then closes every connection. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.migrated.catch(() => undefined);
    await this.pool.end();
  }

  private async withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      // A connection that failed mid-transaction may be in any state: it is destroyed, not reused.
      broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('PostgresDatabase is closed');
  }
}
