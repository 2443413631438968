/**
 * The software custodian's key-material store: a SQLite file kept apart from the event log,
 * because material must be erasable (crypto-shredding) while the log stays immutable.
 * This is the only file of the custodian that talks to better-sqlite3.
 */
import type { Buffer } from 'node:buffer';
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CustodyOperationError, type ManagedKeyPurpose } from '../port.js';

export interface MaterialRow {
  readonly ref: string;
  /** The material sealed under its wrapping key; never the plaintext. */
  readonly wrapped: Buffer;
  readonly wrappingRef: string | null;
  readonly keyId: string;
  readonly version: number;
  readonly tenantId: string;
  readonly purpose: ManagedKeyPurpose;
  readonly createdAt: string;
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

export class MaterialStore {
  private constructor(private readonly db: Database.Database) {}

  static open(path: string): MaterialStore {
    // SQLite gives the -wal and -shm files the mode of the database file, so creating it
    // owner-only first keeps all three private.
    closeSync(openSync(path, 'a', 0o600));
    const db = new Database(path);
    try {
      configure(db);
      db.exec(SCHEMA);
      return new MaterialStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  insert(row: MaterialRow): void {
    this.db
      .prepare(
        `INSERT INTO material (ref, wrapped, wrapping_ref, key_id, version, tenant_id, purpose, created_at)
         VALUES (@ref, @wrapped, @wrappingRef, @keyId, @version, @tenantId, @purpose, @createdAt)`,
      )
      .run(row);
  }

  /** The sealed material and the ref that seals it, or undefined when none is held. */
  findWrapped(ref: string): { wrapped: Buffer; wrappingRef: string | null } | undefined {
    return this.db
      .prepare<[string], { wrapped: Buffer; wrappingRef: string | null }>(
        'SELECT wrapped, wrapping_ref AS wrappingRef FROM material WHERE ref = ?',
      )
      .get(ref);
  }

  has(ref: string): boolean {
    return this.db.prepare('SELECT 1 FROM material WHERE ref = ?').get(ref) !== undefined;
  }

  /**
   * Deletes the row and truncates the WAL. secure_delete zeroes the freed cells in the page, but
   * the pre-delete page image would survive as an older frame in the -wal file until a checkpoint;
   * TRUNCATE copies the zeroed page into the database file and empties the WAL.
   */
  erase(ref: string): void {
    this.db.prepare('DELETE FROM material WHERE ref = ?').run(ref);
    const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    if (result === undefined || result.busy !== 0) {
      throw new CustodyOperationError(
        `Erased ${ref}, but the WAL checkpoint could not complete (a reader holds it); destroy again to finish`,
      );
    }
  }

  close(): void {
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
