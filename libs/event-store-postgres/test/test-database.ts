import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Fresh PostgreSQL databases for tests, created on the server named by KEYLEDGER_TEST_PG_URL
 * (default: the local server, user postgres, trust authentication). `scripts/ensure-postgres.sh`
 * starts or installs that server; `npm test` runs it first.
 */
export const TEST_PG_ADMIN_URL = process.env.KEYLEDGER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** Connection string of the new, empty database. */
  readonly url: string;
  readonly name: string;
  /** Drops the database, ending any connection still open on it. */
  drop(): Promise<void>;
}

export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `keyledger_${label}_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** A schema name no other test uses, for isolation inside one database. */
export function uniqueSchema(label = 't'): string {
  return `${label}_${randomBytes(6).toString('hex')}`;
}

/** Runs `work` on a plain connection to `url`: for tests that look behind an adapter's back. */
export async function withConnection<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  try {
    return await withConnection(TEST_PG_ADMIN_URL, work);
  } catch (error) {
    if (isConnectionRefused(error)) {
      throw new Error(`PostgreSQL is not reachable at ${redacted(TEST_PG_ADMIN_URL)}: run scripts/ensure-postgres.sh (npm test does)`, {
        cause: error,
      });
    }
    throw error;
  }
}

function isConnectionRefused(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || (error instanceof AggregateError && error.errors.some(isConnectionRefused));
}

function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** Every row of every keyledger table in the database, as PostgreSQL prints it: for secret scans. */
export async function dumpTables(url: string): Promise<{ table: string; text: string }[]> {
  return withConnection(url, async (client) => {
    const tables = await client.query<{ name: string }>(
      `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
       WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`,
    );
    const dumps: { table: string; text: string }[] = [];
    for (const { name } of tables.rows) {
      const rows = await client.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`);
      dumps.push({ table: name, text: rows.rows.map((r) => r.row).join('\n') });
    }
    return dumps;
  });
}
