import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type ReadModelDatabase = Database.Database;

/**
 * Opens the read-model file. WAL lets queries read while the runner writes. `synchronous = NORMAL`
 * rather than FULL: a power loss may drop the last commits, but each commit carries its own
 * checkpoint, so rows and position are lost together and the runner projects those events again.
 */
export function openReadModelDatabase(filePath: string, busyTimeoutMs: number): ReadModelDatabase {
  if (filePath !== ':memory:' && !filePath.startsWith('file:')) mkdirSync(dirname(filePath), { recursive: true });
  const database = new Database(filePath, { timeout: busyTimeoutMs });
  try {
    // Documents of 1–4 KiB fill a 4 KiB page each; larger pages hold several (only a new file takes it).
    database.pragma('page_size = 16384');
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    // Index maintenance dominates projection writes: a larger page cache keeps index pages hot.
    database.pragma('cache_size = -32768');
    // Statistics for the query planner, sampled so that analyzing a large table stays cheap.
    database.pragma('analysis_limit = 10000');
    return database;
  } catch (error) {
    database.close();
    throw error;
  }
}
