import { PROJECTION_NAMES, type ProjectionName } from '../port.js';
import { READ_MODEL_SCHEMA_VERSION } from '../schema-version.js';
import type { PgClient, ReadModelTables } from './pg-sql.js';

/**
 * The read-model tables in PostgreSQL, beside the event store's in the same schema. Like the
 * SQLite ones they are disposable: a different READ_MODEL_SCHEMA_VERSION drops and recreates them
 * at position 0, and the runners rebuild them from the log. Sorted text columns use the "C"
 * collation, so that orders (and cursors) are the same as in SQLite and in JavaScript.
 */
const inventoryColumns = `
  tenant_id       text    COLLATE "C" NOT NULL,
  purpose         text    NOT NULL,
  custodian       text    NOT NULL,
  state           text    NOT NULL,
  compromised     boolean NOT NULL,
  created_at      text    COLLATE "C" NOT NULL,
  rotation_due    text    COLLATE "C" NOT NULL,
  parent_key_id   text,
  classifications jsonb   NOT NULL,
  vendors         jsonb   NOT NULL`;

const tablesOf = (t: ReadModelTables): Readonly<Record<ProjectionName, { tables: string[]; ddl: string[] }>> => ({
  inventory: {
    tables: [t.inventoryCurrent, t.inventoryHistory],
    ddl: [
      `CREATE TABLE ${t.inventoryCurrent} (
         key_id text COLLATE "C" PRIMARY KEY, ${inventoryColumns}, live boolean NOT NULL, lacks_evidence boolean NOT NULL, document text NOT NULL)`,
      `CREATE INDEX ON ${t.inventoryCurrent} (created_at, key_id)`,
      `CREATE INDEX ON ${t.inventoryCurrent} (tenant_id, created_at, key_id)`,
      `CREATE INDEX ON ${t.inventoryCurrent} (rotation_due, key_id)`,
      `CREATE INDEX ON ${t.inventoryCurrent} (parent_key_id)`,
      `CREATE TABLE ${t.inventoryHistory} (
         key_id text COLLATE "C" NOT NULL, valid_from_position bigint NOT NULL, valid_from text COLLATE "C" NOT NULL,
         valid_to_position bigint, valid_to text COLLATE "C", ${inventoryColumns}, state_document text NOT NULL,
         PRIMARY KEY (key_id, valid_from_position))`,
      `CREATE INDEX ON ${t.inventoryHistory} (created_at, key_id)`,
      `CREATE INDEX ON ${t.inventoryHistory} (tenant_id, created_at, key_id)`,
    ],
  },
  audit: {
    tables: [t.auditEntries, t.auditSubjects],
    ddl: [
      `CREATE TABLE ${t.auditEntries} (
         position bigint PRIMARY KEY, event_id text NOT NULL, recorded_at text COLLATE "C" NOT NULL, actor text NOT NULL,
         tenant_id text, key_id text, version integer, operation text NOT NULL, outcome text NOT NULL,
         correlation_id text NOT NULL, event_type text NOT NULL, detail text NOT NULL)`,
      `CREATE INDEX ON ${t.auditEntries} (recorded_at, position)`,
      `CREATE INDEX ON ${t.auditEntries} (tenant_id, recorded_at, position)`,
      `CREATE INDEX ON ${t.auditEntries} (key_id, recorded_at, position)`,
      `CREATE INDEX ON ${t.auditEntries} (actor, recorded_at, position)`,
      `CREATE INDEX ON ${t.auditEntries} (operation, recorded_at, position)`,
      `CREATE INDEX ON ${t.auditEntries} (outcome, recorded_at, position)`,
      `CREATE TABLE ${t.auditSubjects} (subject_id text PRIMARY KEY, key_id text, version integer, tenant_id text)`,
    ],
  },
  compliance: {
    tables: [t.complianceKeys, t.complianceFacts],
    ddl: [
      `CREATE TABLE ${t.complianceKeys} (key_id text PRIMARY KEY, document text NOT NULL)`,
      `CREATE TABLE ${t.complianceFacts} (kind text NOT NULL, position bigint NOT NULL, tenant_id text, key_id text, document text NOT NULL, PRIMARY KEY (kind, position))`,
      `CREATE INDEX ON ${t.complianceFacts} (kind, tenant_id, position)`,
    ],
  },
});

export async function recreateProjection(client: PgClient, t: ReadModelTables, projection: ProjectionName): Promise<void> {
  const { tables, ddl } = tablesOf(t)[projection];
  for (const table of tables) await client.query(`DROP TABLE IF EXISTS ${table}`);
  for (const statement of ddl) await client.query(statement);
  await client.query(
    `INSERT INTO ${t.checkpoints} (projection, position) VALUES ($1, 0)
     ON CONFLICT (projection) DO UPDATE SET position = 0, unknown_events = 0, last_unknown_position = NULL,
       last_unknown_type = NULL, failure_position = NULL, failure_message = NULL, failure_at = NULL, updated_at = NULL`,
    [projection],
  );
}

/** Creates the tables, or recreates them when made by another version; processes starting together take turns. */
export async function ensureSchema(client: PgClient, t: ReadModelTables, schema: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`keyledger.read-models.${schema}`]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${t.meta} (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), version integer NOT NULL)`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${t.checkpoints} (
         projection text PRIMARY KEY, position bigint NOT NULL DEFAULT 0, unknown_events bigint NOT NULL DEFAULT 0,
         last_unknown_position bigint, last_unknown_type text, failure_position bigint, failure_message text,
         failure_at text, updated_at text)`,
    );
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${t.meta}`);
    if (rows[0]?.version !== READ_MODEL_SCHEMA_VERSION) {
      for (const projection of PROJECTION_NAMES) await recreateProjection(client, t, projection);
      await client.query(
        `INSERT INTO ${t.meta} (singleton, version) VALUES (true, $1) ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version`,
        [READ_MODEL_SCHEMA_VERSION],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
