import type { Buffer } from 'node:buffer';
import type { MaterialRow, MaterialStore } from '@keyledger/custody';
import type { PostgresDatabase } from './postgres-database.js';

interface StoredMaterialRow {
  readonly ref: string;
  readonly wrapped: Buffer;
  readonly wrapping_ref: string | null;
  readonly key_id: string;
  readonly version: number;
  readonly tenant_id: string;
  readonly purpose: MaterialRow['purpose'];
  readonly created_at: string;
}

const columns = 'ref, wrapped, wrapping_ref, key_id, version, tenant_id, purpose, created_at';

/**
 * The software custodian's sealed key material in the event store's PostgreSQL database, so that
 * API processes behind a load balancer share it and keep nothing on local disk but root.key.
 * Rows hold material sealed under its wrapping key (ultimately root.key), never plaintext.
 *
 * Erasure, honestly: DELETE makes the row invisible once committed, and the SELECT that follows
 * proves no row is left. It does not overwrite bytes. The old tuple stays in its heap page until
 * VACUUM prunes it (and the freed space until it is reused), in WAL segments until they are
 * recycled, and in any base backup, WAL archive or replica for as long as those are kept.
 * What is left there is sealed: it becomes unreadable for good once the key above it is
 * destroyed. A deployment that needs destruction in the device itself uses an HSM or KMS
 * custodian.
 */
export class PostgresMaterialStore implements MaterialStore {
  readonly erasureMethod =
    'row deleted in PostgreSQL and verified absent; not overwritten: the sealed bytes remain in heap pages until VACUUM and in WAL and backups until recycled';

  constructor(private readonly database: PostgresDatabase) {}

  async insert(row: MaterialRow): Promise<void> {
    await this.database.query(
      `INSERT INTO ${this.table} (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [row.ref, row.wrapped, row.wrappingRef, row.keyId, row.version, row.tenantId, row.purpose, row.createdAt],
    );
  }

  async find(ref: string): Promise<MaterialRow | undefined> {
    const { rows } = await this.database.query<StoredMaterialRow>(`SELECT ${columns} FROM ${this.table} WHERE ref = $1`, [ref]);
    return rows[0] ? toMaterialRow(rows[0]) : undefined;
  }

  async has(ref: string): Promise<boolean> {
    const { rowCount } = await this.database.query(`SELECT 1 FROM ${this.table} WHERE ref = $1`, [ref]);
    return rowCount === 1;
  }

  async replaceWrapping(ref: string, wrapped: Buffer, wrappingRef: string, expectedWrappingRef: string | null): Promise<boolean> {
    const { rowCount } = await this.database.query(
      `UPDATE ${this.table} SET wrapped = $1, wrapping_ref = $2 WHERE ref = $3 AND wrapping_ref IS NOT DISTINCT FROM $4`,
      [wrapped, wrappingRef, ref, expectedWrappingRef],
    );
    return rowCount === 1;
  }

  /** DELETE, then a fresh SELECT: the caller learns the row is gone, or gets an error. */
  async erase(ref: string): Promise<void> {
    await this.database.query(`DELETE FROM ${this.table} WHERE ref = $1`, [ref]);
    if (await this.has(ref)) throw new Error(`Key material ${ref} is still present after DELETE`);
  }

  /** The database belongs to the event store that opened it, which closes it. */
  async close(): Promise<void> {}

  private get table(): string {
    return this.database.tables.keyMaterial;
  }
}

function toMaterialRow(row: StoredMaterialRow): MaterialRow {
  return {
    ref: row.ref,
    wrapped: row.wrapped,
    wrappingRef: row.wrapping_ref,
    keyId: row.key_id,
    version: row.version,
    tenantId: row.tenant_id,
    purpose: row.purpose,
    createdAt: row.created_at,
  };
}
