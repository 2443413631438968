import type {
  AuditStore,
  CheckpointStore,
  ComplianceStore,
  InventoryStore,
  ProjectionCommit,
  ProjectionName,
  ProjectionWrites,
  ReadModelStorage,
} from '../port.js';
import { AuditTable } from './audit-table.js';
import { CheckpointTable } from './checkpoint-table.js';
import { ComplianceTable } from './compliance-table.js';
import { InventoryTable } from './inventory-table.js';
import { ensureSchema, recreateProjection } from './schema.js';
import { openReadModelDatabase, type ReadModelDatabase } from './sqlite-database.js';

const OPTIMIZE_EVERY_COMMITS = 25;

export interface SqliteReadModelOptions {
  /** How long a writer waits for another process's transaction (a rebuild from the CLI, say). */
  readonly busyTimeoutMs?: number;
}

/**
 * The embedded read-model storage: one SQLite file beside the event log (`read-models.db`), apart
 * from it so that projection writes never hold the event store's write lock. better-sqlite3 is
 * synchronous, so a commit runs whole between two queries of the same process.
 */
export class SqliteReadModelStorage implements ReadModelStorage {
  readonly checkpoints: CheckpointStore;
  readonly inventory: InventoryStore;
  readonly audit: AuditStore;
  readonly compliance: ComplianceStore;
  private readonly checkpointTable: CheckpointTable;
  private readonly inventoryTable: InventoryTable;
  private readonly auditTable: AuditTable;
  private readonly complianceTable: ComplianceTable;
  private closed = false;
  private commits = 0;

  /** Opens (and creates) the file; `:memory:` gives read models that live as long as the process. */
  static open(filePath: string, options: SqliteReadModelOptions = {}): SqliteReadModelStorage {
    const database = openReadModelDatabase(filePath, options.busyTimeoutMs ?? 10_000);
    try {
      ensureSchema(database);
      return new SqliteReadModelStorage(database);
    } catch (error) {
      database.close();
      throw error;
    }
  }

  private constructor(readonly database: ReadModelDatabase) {
    this.checkpointTable = new CheckpointTable(database);
    this.inventoryTable = new InventoryTable(database);
    this.auditTable = new AuditTable(database);
    this.complianceTable = new ComplianceTable(database);
    const checkpoints = this.checkpointTable;
    const inventory = this.inventoryTable;
    const audit = this.auditTable;
    const compliance = this.complianceTable;
    this.checkpoints = {
      all: async () => checkpoints.all(),
      get: async (projection) => checkpoints.get(projection),
      recordFailure: async (projection, failure) => checkpoints.recordFailure(projection, failure),
    };
    this.inventory = {
      current: async (keyIds) => inventory.current(keyIds),
      list: async (query) => inventory.list(query),
      all: async (tenantId) => inventory.all(tenantId),
      children: async (parentKeyIds) => inventory.children(parentKeyIds),
      complianceCandidates: async (now, tenantId) => inventory.complianceCandidates(now, tenantId),
      tenantsWithActiveKek: async () => inventory.tenantsWithActiveKek(),
    };
    this.audit = {
      subjects: async (ids) => audit.subjects(ids),
      list: async (query) => audit.list(query),
      countByVersion: async (filter) => audit.countByVersion(filter),
      countRewrappedFrom: async (keyId) => audit.countRewrappedFrom(keyId),
    };
    this.compliance = {
      keys: async (keyIds) => compliance.keys(keyIds),
      facts: async (kind, tenantId) => compliance.facts(kind, tenantId),
    };
  }

  async commit(commit: ProjectionCommit): Promise<void> {
    this.assertOpen();
    const projection = commit.writes.projection;
    this.database
      .transaction(() => {
        this.checkpointTable.advance(projection, commit);
        this.write(commit.writes);
      })
      .immediate();
    this.keepStatisticsFresh();
  }

  /**
   * Without statistics SQLite may pick a poor index for a filtered query (the audit view's
   * tenant + outcome, say, by two orders of magnitude). `PRAGMA optimize` analyzes only the tables
   * that changed a lot since the last time, so running it every so often is cheap.
   */
  private keepStatisticsFresh(): void {
    this.commits += 1;
    if (this.commits % OPTIMIZE_EVERY_COMMITS === 1) this.database.pragma('optimize');
  }

  async reset(projection: ProjectionName): Promise<void> {
    this.assertOpen();
    this.database.transaction(() => recreateProjection(this.database, projection)).immediate();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.database.pragma('optimize');
    this.database.close();
  }

  private write(writes: ProjectionWrites): void {
    switch (writes.projection) {
      case 'inventory':
        return this.inventoryTable.write(writes.changes);
      case 'audit':
        return this.auditTable.write(writes.entries, writes.subjects);
      case 'compliance':
        return this.complianceTable.write(writes.keys, writes.facts);
      default: {
        const _exhaustive: never = writes;
        throw new Error(`Unknown projection writes ${JSON.stringify(_exhaustive)}`);
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('SqliteReadModelStorage is closed');
  }
}
