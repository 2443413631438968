import type { PostgresDatabase } from '@keyledger/event-store-postgres';

/** A connection inside a transaction (the pool's client), typed without naming the driver. */
export type PgClient = Parameters<Parameters<PostgresDatabase['transactionClient']>[0]>[0];

/** Anything that runs a statement: the pool (one-off reads) or a transaction's client. */
export interface PgQueryable {
  query(sql: string, params: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

export const onPool = (database: PostgresDatabase): PgQueryable => ({
  query: (sql, params) => database.query(sql, params),
});

export const onClient = (client: PgClient): PgQueryable => ({
  query: (sql, params) => client.query(sql, params),
});

/** Positional parameters ($1, $2, …) collected while a query is built from the filters given. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Schema-qualified names of the read-model tables, prefixed so they never collide with the store's. */
export interface ReadModelTables {
  readonly meta: string;
  readonly checkpoints: string;
  readonly inventoryCurrent: string;
  readonly inventoryHistory: string;
  readonly auditEntries: string;
  readonly auditSubjects: string;
  readonly complianceKeys: string;
  readonly complianceFacts: string;
}

export const readModelTables = (quotedSchema: string): ReadModelTables => {
  const table = (name: string) => `${quotedSchema}."${name}"`;
  return {
    meta: table('rm_meta'),
    checkpoints: table('rm_checkpoints'),
    inventoryCurrent: table('rm_inventory_current'),
    inventoryHistory: table('rm_inventory_history'),
    auditEntries: table('rm_audit_entries'),
    auditSubjects: table('rm_audit_subjects'),
    complianceKeys: table('rm_compliance_keys'),
    complianceFacts: table('rm_compliance_facts'),
  };
};

/** bigint and count(*) arrive as strings from the driver. */
export const toNumber = (value: unknown): number => Number(value);
export const toNumberOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
