import type { PoolClient } from 'pg';
import type { TableNames } from './table-names.js';

/**
 * The versioned schema of keyledger in PostgreSQL. A migration is never edited once released: a
 * change is a new version appended here. All pending migrations run in one transaction at start.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: (tables: TableNames) => string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'events and the head of the global log',
    // Positions are handed out from log_head inside the appending transaction (see
    // postgres-event-store.ts), so they are dense and become visible in order. data and metadata
    // are json, not jsonb: json keeps the text exactly as written (key order included).
    sql: (t) => `
      CREATE TABLE ${t.events} (
        position       bigint      PRIMARY KEY CHECK (position > 0),
        event_id       uuid        NOT NULL UNIQUE,
        stream_id      text        NOT NULL,
        revision       integer     NOT NULL CHECK (revision >= 0),
        type           text        NOT NULL,
        schema_version integer     NOT NULL,
        data           json        NOT NULL,
        metadata       json        NOT NULL,
        recorded_at    timestamptz NOT NULL,
        CONSTRAINT events_stream_revision_key UNIQUE (stream_id, revision)
      );
      CREATE TABLE ${t.logHead} (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        position  bigint  NOT NULL CHECK (position >= 0)
      );
      INSERT INTO ${t.logHead} (singleton, position) VALUES (true, 0);`,
  },
  {
    version: 2,
    name: 'idempotency records',
    sql: (t) => `
      CREATE TABLE ${t.idempotency} (
        scope         text        NOT NULL,
        key           text        NOT NULL,
        request_hash  text        NOT NULL,
        state         text        NOT NULL CHECK (state IN ('pending', 'completed')),
        status_code   integer,
        response_body text,
        created_at    text        NOT NULL,
        PRIMARY KEY (scope, key)
      );`,
  },
  {
    version: 3,
    name: 'software custodian key material',
    sql: (t) => `
      CREATE TABLE ${t.keyMaterial} (
        ref          text    PRIMARY KEY,
        wrapped      bytea   NOT NULL,
        wrapping_ref text,
        key_id       text    NOT NULL,
        version      integer NOT NULL,
        tenant_id    text    NOT NULL,
        purpose      text    NOT NULL CHECK (purpose IN ('root', 'kek', 'dek')),
        created_at   text    NOT NULL
      );`,
  },
];

export class SchemaTooNewError extends Error {
  readonly code = 'STORE.SCHEMA_TOO_NEW' as const;
  constructor(schema: string, found: number, known: number) {
    super(`PostgreSQL schema "${schema}" is at migration ${found}, newer than this build knows (${known}): upgrade keyledger`);
    this.name = 'SchemaTooNewError';
  }
}

/**
 * Brings the schema to the latest version. The advisory lock makes processes that start together
 * on a fresh database take turns: the first creates everything, the others find it done.
 */
export async function migrate(client: PoolClient, tables: TableNames, known: readonly Migration[] = migrations): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`keyledger.migrations.${tables.schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${tables.quotedSchema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${tables.migrations} (
         version    integer     PRIMARY KEY,
         name       text        NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const applied = await appliedVersion(client, tables);
    const latest = known.at(-1)?.version ?? 0;
    if (applied > latest) throw new SchemaTooNewError(tables.schema, applied, latest);
    for (const migration of known.filter((m) => m.version > applied)) {
      await client.query(migration.sql(tables));
      await client.query(`INSERT INTO ${tables.migrations} (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined); // the original error says what went wrong
    throw error;
  }
}

async function appliedVersion(client: PoolClient, tables: TableNames): Promise<number> {
  const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${tables.migrations}`);
  return rows[0]?.version ?? 0;
}
