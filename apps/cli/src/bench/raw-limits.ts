import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { throughput, type Throughput } from './measure.js';

/**
 * Raw limits measured in the same run as the engine's figures, so that each engine figure is read
 * as a ratio to what the machine and the libraries can do at best.
 */
export const aesGcmLimit = (operations = 200_000, size = 64): Throughput => {
  const key = randomBytes(32);
  const plaintext = randomBytes(size);
  const started = process.hrtime.bigint();
  for (let i = 0; i < operations; i++) {
    const cipher = createCipheriv('aes-256-gcm', key, randomBytes(12));
    cipher.update(plaintext);
    cipher.final();
    cipher.getAuthTag();
  }
  return throughput(operations, started);
};

export const sha256Limit = (operations = 500_000, size = 512): Throughput => {
  const data = randomBytes(size);
  const started = process.hrtime.bigint();
  for (let i = 0; i < operations; i++) createHash('sha256').update(data).digest();
  return throughput(operations, started);
};

/** Durable (WAL, synchronous=FULL) batched inserts of event-sized rows, then a sequential scan. */
export const sqliteLimits = async (rows = 200_000, batch = 100): Promise<{ insert: Throughput; scan: Throughput }> => {
  const { default: Database } = await import('better-sqlite3');
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-bench-sqlite-'));
  const db = new Database(join(dir, 'raw.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (position INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT, revision INTEGER, data TEXT, UNIQUE(stream, revision))');
    const insert = db.prepare('INSERT INTO t (stream, revision, data) VALUES (?, ?, ?)');
    const payload = JSON.stringify({ keyId: 'k'.repeat(36), version: 1, at: new Date().toISOString(), pad: 'x'.repeat(300) });
    const many = db.transaction((from: number) => {
      for (let i = from; i < from + batch; i++) insert.run(`s-${i % 5000}`, Math.floor(i / 5000), payload);
    });
    let started = process.hrtime.bigint();
    for (let i = 0; i < rows; i += batch) many(i);
    const inserted = throughput(rows, started);
    started = process.hrtime.bigint();
    let n = 0;
    for (const row of db.prepare('SELECT * FROM t ORDER BY position').iterate()) if (row) n++;
    return { insert: inserted, scan: throughput(n, started) };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

/** Batched inserts into PostgreSQL, each batch its own durable commit. */
export const postgresLimit = async (url: string, rows = 50_000, batch = 100): Promise<Throughput> => {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TEMP TABLE bench_raw (position BIGSERIAL PRIMARY KEY, stream TEXT, revision INT, data JSONB)');
    const payload = JSON.stringify({ keyId: 'k'.repeat(36), version: 1, pad: 'x'.repeat(300) });
    const started = process.hrtime.bigint();
    for (let i = 0; i < rows; i += batch) {
      const values: string[] = [];
      const params: unknown[] = [];
      for (let j = 0; j < batch; j++) {
        params.push(`s-${i + j}`, 0, payload);
        values.push(`($${params.length - 2}, $${params.length - 1}, $${params.length})`);
      }
      await client.query(`INSERT INTO bench_raw (stream, revision, data) VALUES ${values.join(',')}`, params);
    }
    return throughput(rows, started);
  } finally {
    await client.end();
  }
};
