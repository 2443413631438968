import { PostgresDatabase, type PostgresDatabaseOptions } from '@keyledger/event-store-postgres';
import {
  CheckpointMovedError,
  PROJECTION_NAMES,
  type AuditStore,
  type CheckpointStore,
  type ComplianceStore,
  type InventoryStore,
  type ProjectionCheckpoint,
  type ProjectionCommit,
  type ProjectionName,
  type ProjectionWrites,
  type ReadModelStorage,
} from '../port.js';
import { PgAudit } from './pg-audit.js';
import { PgCompliance } from './pg-compliance.js';
import { PgInventory } from './pg-inventory.js';
import { ensureSchema, recreateProjection } from './pg-schema.js';
import { onClient, onPool, readModelTables, toNumber, type PgClient, type PgQueryable, type ReadModelTables } from './pg-sql.js';

type CheckpointRow = {
  projection: ProjectionName;
  position: string;
  unknown_events: string;
  last_unknown_position: string | null;
  last_unknown_type: string | null;
  failure_position: string | null;
  failure_message: string | null;
  failure_at: string | null;
  updated_at: string | null;
};

const toCheckpoint = (row: CheckpointRow): ProjectionCheckpoint => ({
  projection: row.projection,
  position: toNumber(row.position),
  unknownEvents: toNumber(row.unknown_events),
  lastUnknown: row.last_unknown_position === null ? null : { position: toNumber(row.last_unknown_position), type: row.last_unknown_type ?? '' },
  failure:
    row.failure_position === null
      ? null
      : { position: toNumber(row.failure_position), message: row.failure_message ?? '', at: row.failure_at ?? '' },
  updatedAt: row.updated_at,
});

/**
 * The read models in PostgreSQL, in the same database and schema as the events, so that API
 * processes behind a load balancer keep no local state. Each commit is one transaction whose first
 * statement moves the checkpoint by compare-and-set: a second runner (another process) committing
 * the same batch finds the checkpoint moved, rolls back, and resumes from it.
 */
export class PostgresReadModelStorage implements ReadModelStorage {
  readonly checkpoints: CheckpointStore;
  readonly inventory: InventoryStore;
  readonly audit: AuditStore;
  readonly compliance: ComplianceStore;
  private readonly tables: ReadModelTables;
  private readonly ready: Promise<void>;
  private readonly pool: PgQueryable;
  private readonly inventoryTable: PgInventory;
  private readonly auditTable: PgAudit;
  private readonly complianceTable: PgCompliance;

  /** Opens a pool of its own on the database (connections are made lazily; `ready()` reports failures). */
  static open(options: PostgresDatabaseOptions): PostgresReadModelStorage {
    return new PostgresReadModelStorage(PostgresDatabase.open({ poolSize: 4, ...options }));
  }

  private constructor(private readonly database: PostgresDatabase) {
    this.tables = readModelTables(database.tables.quotedSchema);
    this.pool = onPool(database);
    this.inventoryTable = new PgInventory(this.tables);
    this.auditTable = new PgAudit(this.tables);
    this.complianceTable = new PgCompliance(this.tables);
    this.ready = database.transactionClient((client) => ensureSchema(client, this.tables, database.tables.schema));
    this.ready.catch(() => undefined); // observed by every call and by whenReady()
    const read = <T>(work: (sql: PgQueryable) => Promise<T>): Promise<T> => this.ready.then(() => work(this.pool));
    this.checkpoints = {
      all: () => read((sql) => this.allCheckpoints(sql)),
      get: (projection) => read((sql) => this.checkpoint(sql, projection)),
      recordFailure: (projection, failure) =>
        read(async (sql) => {
          await sql.query(`UPDATE ${this.tables.checkpoints} SET failure_position = $1, failure_message = $2, failure_at = $3 WHERE projection = $4`, [
            failure.position,
            failure.message,
            failure.at,
            projection,
          ]);
        }),
    };
    this.inventory = {
      current: (keyIds) => read((sql) => this.inventoryTable.current(sql, keyIds)),
      list: (query) => read((sql) => this.inventoryTable.list(sql, query)),
      all: (tenantId) => read((sql) => this.inventoryTable.all(sql, tenantId)),
      children: (parentKeyIds) => read((sql) => this.inventoryTable.children(sql, parentKeyIds)),
      complianceCandidates: (now, tenantId) => read((sql) => this.inventoryTable.complianceCandidates(sql, now, tenantId)),
      tenantsWithActiveKek: () => read((sql) => this.inventoryTable.tenantsWithActiveKek(sql)),
    };
    this.audit = {
      subjects: (ids) => read((sql) => this.auditTable.subjects(sql, ids)),
      list: (query) => read((sql) => this.auditTable.list(sql, query)),
      countByVersion: (filter) => read((sql) => this.auditTable.countByVersion(sql, filter)),
      countRewrappedFrom: (keyId) => read((sql) => this.auditTable.countRewrappedFrom(sql, keyId)),
    };
    this.compliance = {
      keys: (keyIds) => read((sql) => this.complianceTable.keys(sql, keyIds)),
      facts: (kind, tenantId) => read((sql) => this.complianceTable.facts(sql, kind, tenantId)),
    };
  }

  /** Resolves once the tables exist; rejects with the reason they cannot be created. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  async commit(commit: ProjectionCommit): Promise<void> {
    await this.ready;
    await this.database.transactionClient((client) =>
      inTransaction(client, async (sql) => {
        await this.advance(sql, commit);
        await this.write(sql, commit.writes);
      }),
    );
  }

  async reset(projection: ProjectionName): Promise<void> {
    await this.ready;
    await this.database.transactionClient((client) => inTransaction(client, () => recreateProjection(client, this.tables, projection)));
  }

  async close(): Promise<void> {
    await this.database.close();
  }

  private async advance(sql: PgQueryable, commit: ProjectionCommit): Promise<void> {
    const projection = commit.writes.projection;
    const last = commit.unknown[commit.unknown.length - 1];
    const moved = await sql.query(
      `UPDATE ${this.tables.checkpoints} SET position = $1, unknown_events = unknown_events + $2,
         last_unknown_position = COALESCE($3, last_unknown_position), last_unknown_type = COALESCE($4, last_unknown_type),
         failure_position = NULL, failure_message = NULL, failure_at = NULL, updated_at = $5
       WHERE projection = $6 AND position = $7`,
      [commit.position, commit.unknown.length, last?.position ?? null, last?.type ?? null, new Date().toISOString(), projection, commit.expectedPosition],
    );
    if (moved.rowCount !== 1) {
      throw new CheckpointMovedError(projection, commit.expectedPosition, (await this.checkpoint(sql, projection)).position);
    }
  }

  private write(sql: PgQueryable, writes: ProjectionWrites): Promise<void> {
    switch (writes.projection) {
      case 'inventory':
        return this.inventoryTable.write(sql, writes.changes);
      case 'audit':
        return this.auditTable.write(sql, writes.entries, writes.subjects);
      case 'compliance':
        return this.complianceTable.write(sql, writes.keys, writes.facts);
      default: {
        const _exhaustive: never = writes;
        throw new Error(`Unknown projection writes ${JSON.stringify(_exhaustive)}`);
      }
    }
  }

  private async allCheckpoints(sql: PgQueryable): Promise<ProjectionCheckpoint[]> {
    const { rows } = await sql.query(`SELECT * FROM ${this.tables.checkpoints}`, []);
    const byName = new Map((rows as CheckpointRow[]).map((row) => [row.projection, toCheckpoint(row)]));
    return PROJECTION_NAMES.flatMap((name) => byName.get(name) ?? []);
  }

  private async checkpoint(sql: PgQueryable, projection: ProjectionName): Promise<ProjectionCheckpoint> {
    const { rows } = await sql.query(`SELECT * FROM ${this.tables.checkpoints} WHERE projection = $1`, [projection]);
    const row = rows[0] as CheckpointRow | undefined;
    if (!row) throw new Error(`No checkpoint for projection ${projection}`);
    return toCheckpoint(row);
  }
}

async function inTransaction<T>(client: PgClient, work: (sql: PgQueryable) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work(onClient(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined); // the original error says what went wrong
    throw error;
  }
}

