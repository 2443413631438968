import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@keyledger/event-store-sqlite';
import { SqliteReadModelStorage } from '@keyledger/read-models';

export { ACTOR, LogWriter, type GenerateOptions } from '../../libs/read-models/test/log-writer.js';

/** A temp dir with an event store and read-model files in it, removed by `cleanup`. */
export interface ReadFixture {
  readonly dir: string;
  readonly store: SqliteEventStore;
  openStorage(name?: string): SqliteReadModelStorage;
  cleanup(): Promise<void>;
}

export function readFixture(): ReadFixture {
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-read-'));
  const store = SqliteEventStore.open(join(dir, 'events.db'));
  const opened: SqliteReadModelStorage[] = [];
  return {
    dir,
    store,
    openStorage: (name = 'read-models.db') => {
      const storage = SqliteReadModelStorage.open(join(dir, name));
      opened.push(storage);
      return storage;
    },
    cleanup: async () => {
      await Promise.all(opened.map((s) => s.close()));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every table of a SQLite read model, rows in key order, without the checkpoints' timestamps. */
export function dumpReadModels(storage: SqliteReadModelStorage): Record<string, unknown[]> {
  const db = storage.database;
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
  return Object.fromEntries(
    tables.map((table) => {
      const rows = db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
      const cleaned = rows.map((row) => (table === 'projection_checkpoints' ? { ...row, updated_at: null } : row));
      return [table, cleaned.map((row) => JSON.stringify(row)).sort()];
    }),
  );
}
