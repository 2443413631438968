import { PROJECTION_NAMES, type ProjectionName } from '../port.js';
import { READ_MODEL_SCHEMA_VERSION } from '../schema-version.js';
import type { ReadModelDatabase } from './sqlite-database.js';


/** Columns an inventory is filtered and sorted by; shared by the current and the history table. */
const inventoryColumns = `
  tenant_id       TEXT    NOT NULL,
  purpose         TEXT    NOT NULL,
  custodian       TEXT    NOT NULL,
  state           TEXT    NOT NULL,
  compromised     INTEGER NOT NULL,
  created_at      TEXT    NOT NULL,
  rotation_due    TEXT    NOT NULL,
  parent_key_id   TEXT,
  classifications TEXT    NOT NULL,
  vendors         TEXT    NOT NULL`;

const TABLES: Readonly<Record<ProjectionName, readonly string[]>> = {
  inventory: [
    `CREATE TABLE inventory_current (
       key_id TEXT PRIMARY KEY,
       ${inventoryColumns},
       live           INTEGER NOT NULL,
       lacks_evidence INTEGER NOT NULL,
       document TEXT NOT NULL)`,
    'CREATE INDEX inventory_current_created ON inventory_current (created_at, key_id)',
    'CREATE INDEX inventory_current_tenant ON inventory_current (tenant_id, created_at, key_id)',
    'CREATE INDEX inventory_current_due ON inventory_current (rotation_due, key_id)',
    'CREATE INDEX inventory_current_parent ON inventory_current (parent_key_id)',
    // One row per state a key went through, valid from one event until the next (null: still valid).
    `CREATE TABLE inventory_history (
       key_id              TEXT    NOT NULL,
       valid_from_position INTEGER NOT NULL,
       valid_from          TEXT    NOT NULL,
       valid_to_position   INTEGER,
       valid_to            TEXT,
       ${inventoryColumns},
       state_document TEXT NOT NULL,
       PRIMARY KEY (key_id, valid_from_position))`,
    'CREATE INDEX inventory_history_created ON inventory_history (created_at, key_id)',
    'CREATE INDEX inventory_history_tenant ON inventory_history (tenant_id, created_at, key_id)',
  ],
  audit: [
    `CREATE TABLE audit_entries (
       position       INTEGER PRIMARY KEY,
       event_id       TEXT    NOT NULL,
       recorded_at    TEXT    NOT NULL,
       actor          TEXT    NOT NULL,
       tenant_id      TEXT,
       key_id         TEXT,
       version        INTEGER,
       operation      TEXT    NOT NULL,
       outcome        TEXT    NOT NULL,
       correlation_id TEXT    NOT NULL,
       event_type     TEXT    NOT NULL,
       detail         TEXT    NOT NULL)`,
    'CREATE INDEX audit_time ON audit_entries (recorded_at, position)',
    'CREATE INDEX audit_tenant ON audit_entries (tenant_id, recorded_at, position)',
    'CREATE INDEX audit_key ON audit_entries (key_id, recorded_at, position)',
    'CREATE INDEX audit_actor ON audit_entries (actor, recorded_at, position)',
    'CREATE INDEX audit_operation ON audit_entries (operation, recorded_at, position)',
    'CREATE INDEX audit_outcome ON audit_entries (outcome, recorded_at, position)',
    `CREATE TABLE audit_subjects (
       subject_id TEXT PRIMARY KEY,
       key_id     TEXT,
       version    INTEGER,
       tenant_id  TEXT)`,
  ],
  compliance: [
    'CREATE TABLE compliance_keys (key_id TEXT PRIMARY KEY, document TEXT NOT NULL)',
    `CREATE TABLE compliance_facts (
       kind      TEXT    NOT NULL,
       position  INTEGER NOT NULL,
       tenant_id TEXT,
       key_id    TEXT,
       document  TEXT    NOT NULL,
       PRIMARY KEY (kind, position))`,
    'CREATE INDEX compliance_facts_tenant ON compliance_facts (kind, tenant_id, position)',
  ],
};

const CHECKPOINTS = `
  CREATE TABLE IF NOT EXISTS projection_checkpoints (
    projection            TEXT    PRIMARY KEY,
    position              INTEGER NOT NULL DEFAULT 0,
    unknown_events        INTEGER NOT NULL DEFAULT 0,
    last_unknown_position INTEGER,
    last_unknown_type     TEXT,
    failure_position      INTEGER,
    failure_message       TEXT,
    failure_at            TEXT,
    updated_at            TEXT)`;

const tableNames = (projection: ProjectionName): string[] =>
  TABLES[projection].flatMap((ddl) => /^CREATE TABLE (\w+)/.exec(ddl.trim())?.[1] ?? []);

/** Drops a projection's tables and creates them empty, with its checkpoint at 0 (inside the caller's transaction). */
export function recreateProjection(database: ReadModelDatabase, projection: ProjectionName): void {
  for (const table of tableNames(projection)) database.exec(`DROP TABLE IF EXISTS ${table}`);
  for (const ddl of TABLES[projection]) database.exec(ddl);
  database
    .prepare(
      `INSERT INTO projection_checkpoints (projection, position) VALUES (?, 0)
       ON CONFLICT (projection) DO UPDATE SET position = 0, unknown_events = 0, last_unknown_position = NULL,
         last_unknown_type = NULL, failure_position = NULL, failure_message = NULL, failure_at = NULL, updated_at = NULL`,
    )
    .run(projection);
}

/** Creates the schema, or recreates it empty when it was made by another schema version. */
export function ensureSchema(database: ReadModelDatabase): void {
  database.transaction(() => {
    database.exec(CHECKPOINTS);
    const version = database.pragma('user_version', { simple: true }) as number;
    const complete = PROJECTION_NAMES.every((projection) =>
      tableNames(projection).every((table) => database.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)),
    );
    if (version === READ_MODEL_SCHEMA_VERSION && complete) return;
    for (const projection of PROJECTION_NAMES) recreateProjection(database, projection);
    database.pragma(`user_version = ${READ_MODEL_SCHEMA_VERSION}`);
  }).immediate();
}
