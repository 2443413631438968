/**
 * The key-material store: where sealed key material lives, kept apart from the event log because
 * material must be erasable (crypto-shredding) while the log stays immutable. The interface lets
 * a deployment keep it beside its events (PostgreSQL); the SQLite file below is the embedded
 * default, and the only file of the custodians that talks to better-sqlite3.
 */
import type { Buffer } from 'node:buffer';
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CustodyOperationError, type ManagedKeyPurpose } from '../port.js';

export interface MaterialRow {
  readonly ref: string;
  /**
   * The material sealed under its wrapping key; never the plaintext. Empty for material that a
   * device holds itself (an HSM token object, a KMS key): the row then only records its owner.
   */
  readonly wrapped: Buffer;
  readonly wrappingRef: string | null;
  readonly keyId: string;
  readonly version: number;
  readonly tenantId: string;
  readonly purpose: ManagedKeyPurpose;
  readonly createdAt: string;
}

export interface MaterialStore {
  insert(row: MaterialRow): Promise<void>;
  /** The row of `ref`, or undefined when none is held. */
  find(ref: string): Promise<MaterialRow | undefined>;
  has(ref: string): Promise<boolean>;
  /**
   * Replaces the sealed material of `ref` only if it is still sealed under `expectedWrappingRef`
   * (compare-and-set, so two rewrapping processes cannot interleave). False when it was not.
   */
  replaceWrapping(ref: string, wrapped: Buffer, wrappingRef: string, expectedWrappingRef: string | null): Promise<boolean>;
  /** Deletes the row so that its bytes are gone from the storage's files, or throws. */
  erase(ref: string): Promise<void>;
  /** What `erase` does to the bytes, in words for the destruction evidence (stores differ). */
  readonly erasureMethod: string;
  close(): Promise<void>;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS material (
    ref          TEXT PRIMARY KEY,
    wrapped      BLOB NOT NULL,
    wrapping_ref TEXT NULL,
    key_id       TEXT NOT NULL,
    version      INTEGER NOT NULL,
    tenant_id    TEXT NOT NULL,
    purpose      TEXT NOT NULL CHECK (purpose IN ('root', 'kek', 'dek')),
    created_at   TEXT NOT NULL
  ) STRICT`;

const SELECT_ROW = `SELECT ref, wrapped, wrapping_ref AS wrappingRef, key_id AS keyId, version, tenant_id AS tenantId,
  purpose, created_at AS createdAt FROM material WHERE ref = ?`;

export class SqliteMaterialStore implements MaterialStore {
  readonly erasureMethod = 'row erased with SQLite secure_delete and WAL truncated';

  private constructor(private readonly db: Database.Database) {}

  static open(path: string): SqliteMaterialStore {
    // SQLite gives the -wal and -shm files the mode of the database file, so creating it
    // owner-only first keeps all three private.
    closeSync(openSync(path, 'a', 0o600));
    const db = new Database(path);
    try {
      configure(db);
      db.exec(SCHEMA);
      return new SqliteMaterialStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  async insert(row: MaterialRow): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO material (ref, wrapped, wrapping_ref, key_id, version, tenant_id, purpose, created_at)
         VALUES (@ref, @wrapped, @wrappingRef, @keyId, @version, @tenantId, @purpose, @createdAt)`,
      )
      .run(row);
  }

  async find(ref: string): Promise<MaterialRow | undefined> {
    return this.db.prepare<[string], MaterialRow>(SELECT_ROW).get(ref);
  }

  async has(ref: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM material WHERE ref = ?').get(ref) !== undefined;
  }

  async replaceWrapping(ref: string, wrapped: Buffer, wrappingRef: string, expectedWrappingRef: string | null): Promise<boolean> {
    const result = this.db
      .prepare('UPDATE material SET wrapped = ?, wrapping_ref = ? WHERE ref = ? AND wrapping_ref IS ?')
      .run(wrapped, wrappingRef, ref, expectedWrappingRef);
    return result.changes === 1;
  }

  /**
   * Deletes the row and truncates the WAL. secure_delete zeroes the freed cells in the page, but
   * the pre-delete page image would survive as an older frame in the -wal file until a checkpoint;
   * TRUNCATE copies the zeroed page into the database file and empties the WAL. A rewrap leaves
   * the older sealed form in the same way, which is harmless: it is sealed under a key that is
   * itself destroyed before anyone calls the older blob unreadable.
   */
  async erase(ref: string): Promise<void> {
    this.db.prepare('DELETE FROM material WHERE ref = ?').run(ref);
    const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    if (result === undefined || result.busy !== 0) {
      throw new CustodyOperationError(
        `Erased ${ref}, but the WAL checkpoint could not complete (a reader holds it); destroy again to finish`,
      );
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function configure(db: Database.Database): void {
  expectPragma(db, 'journal_mode = WAL', 'journal_mode', 'wal');
  expectPragma(db, 'synchronous = FULL', 'synchronous', 2);
  // Per connection, and the reason this store can claim erasure: freed content is overwritten.
  expectPragma(db, 'secure_delete = ON', 'secure_delete', 1);
}

function expectPragma(db: Database.Database, set: string, name: string, expected: string | number): void {
  db.pragma(set);
  const actual = db.pragma(name, { simple: true });
  if (actual !== expected) {
    throw new CustodyOperationError(`Key-material store: PRAGMA ${name} is ${String(actual)}, expected ${expected}`);
  }
}
