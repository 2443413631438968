import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

/**
 * Opens a database file so that several processes can share it: WAL lets readers run beside the
 * one writer, `synchronous = FULL` makes each commit durable before it is acknowledged, and the
 * busy timeout makes a writer wait for another process's transaction instead of failing at once.
 */
export function openSqliteDatabase(filePath: string, busyTimeoutMs: number): SqliteDatabase {
  if (isOnDisk(filePath)) mkdirSync(dirname(filePath), { recursive: true });
  const database = new Database(filePath, { timeout: busyTimeoutMs });
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    database.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    return database;
  } catch (error) {
    database.close();
    throw error;
  }
}

function isOnDisk(filePath: string): boolean {
  return filePath !== ':memory:' && filePath !== '' && !filePath.startsWith('file:');
}
