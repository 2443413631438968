import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  AUDIT_SIGNING_KEY_FILE,
  AuditSealer,
  CHECKPOINT_STREAM,
  keyIdOf,
  signedHeadBytes,
  type CheckpointRecord,
  type CheckpointSigner,
  type SignedCheckpoint,
} from '@keyledger/audit';
import type { EventStore, NewEvent } from '@keyledger/event-store';

/**
 * Helpers of the audit tests: a log built through the real store and sealer, and tampering done
 * the way an intruder with database access would, straight on the store's table. Each store gets
 * a `LogTamper` over its own table, so the same scenarios run on all of them.
 */
export interface LogTamper {
  readonly label: string;
  /** Positions of the log's events (the checkpoint stream's excluded), in order. */
  eventPositions(): Promise<number[]>;
  eventAt(position: number): Promise<{ eventId: string; streamId: string; type: string; data: unknown }>;
  setData(position: number, data: unknown): Promise<void>;
  setRecordedAt(position: number, recordedAt: string): Promise<void>;
  deleteEvent(position: number): Promise<void>;
  /** Moves every event from `position` on one place up, puts a forged event at `position`, and returns its id. */
  insertForgedAt(position: number): Promise<string>;
  swap(a: number, b: number): Promise<void>;
  /** Deletes the log's events from `position` on, leaving the checkpoint events in place. */
  truncateEventsFrom(position: number): Promise<void>;
  /** Deletes everything from `position` on, checkpoints included. */
  truncateAllFrom(position: number): Promise<void>;
  checkpoint(sequence: number): Promise<CheckpointRecord>;
  setCheckpoint(sequence: number, record: CheckpointRecord): Promise<void>;
  deleteCheckpoint(sequence: number): Promise<void>;
  checkpointCount(): Promise<number>;
  close(): Promise<void>;
}

const FORGED_METADATA = { actor: 'p-intruder', tenantId: 'tenant-a', correlationId: 'forged', causationId: null, idempotencyKey: null };
const FORGED_DATA = { keyId: 'forged', tenantId: 'tenant-a' };

/** Tampering on the SQLite file (the store must be closed, as an intruder would copy or lock it). */
export class SqliteTamper implements LogTamper {
  readonly label = 'SQLite';
  private readonly db: Database.Database;

  constructor(filePath: string) {
    this.db = new Database(filePath);
  }

  async eventPositions(): Promise<number[]> {
    return this.db.prepare<[string], number>('SELECT position FROM events WHERE stream_id <> ? ORDER BY position').pluck().all(CHECKPOINT_STREAM);
  }

  async eventAt(position: number) {
    const row = this.db
      .prepare<[number], { event_id: string; stream_id: string; type: string; data: string }>('SELECT event_id, stream_id, type, data FROM events WHERE position = ?')
      .get(position)!;
    return { eventId: row.event_id, streamId: row.stream_id, type: row.type, data: JSON.parse(row.data) as unknown };
  }

  async setData(position: number, data: unknown): Promise<void> {
    this.db.prepare('UPDATE events SET data = ? WHERE position = ?').run(JSON.stringify(data), position);
  }

  async setRecordedAt(position: number, recordedAt: string): Promise<void> {
    this.db.prepare('UPDATE events SET recorded_at = ? WHERE position = ?').run(recordedAt, position);
  }

  async deleteEvent(position: number): Promise<void> {
    this.db.prepare('DELETE FROM events WHERE position = ?').run(position);
  }

  async insertForgedAt(position: number): Promise<string> {
    const eventId = randomUUID();
    const before = this.db.prepare<[number], string>('SELECT recorded_at FROM events WHERE position < ? ORDER BY position DESC LIMIT 1').pluck().get(position);
    this.db.transaction(() => {
      // Two steps, because the primary key is checked row by row during an UPDATE.
      this.db.prepare('UPDATE events SET position = -(position + 1) WHERE position >= ?').run(position);
      this.db.prepare('UPDATE events SET position = -position WHERE position < 0').run();
      this.db
        .prepare(
          `INSERT INTO events (position, event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at)
           VALUES (?, ?, 'key-forged', 0, 'KeyGenerated', 1, ?, ?, ?)`,
        )
        .run(position, eventId, JSON.stringify(FORGED_DATA), JSON.stringify(FORGED_METADATA), before ?? new Date(0).toISOString());
    })();
    return eventId;
  }

  async swap(a: number, b: number): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('UPDATE events SET position = -1 WHERE position = ?').run(a);
      this.db.prepare('UPDATE events SET position = ? WHERE position = ?').run(a, b);
      this.db.prepare('UPDATE events SET position = ? WHERE position = -1').run(b);
    })();
  }

  async truncateEventsFrom(position: number): Promise<void> {
    this.db.prepare('DELETE FROM events WHERE position >= ? AND stream_id <> ?').run(position, CHECKPOINT_STREAM);
  }

  async truncateAllFrom(position: number): Promise<void> {
    this.db.prepare('DELETE FROM events WHERE position >= ?').run(position);
  }

  async checkpoint(sequence: number): Promise<CheckpointRecord> {
    const data = this.db.prepare<[string, number], string>('SELECT data FROM events WHERE stream_id = ? AND revision = ?').pluck().get(CHECKPOINT_STREAM, sequence - 1);
    if (data === undefined) throw new Error(`no checkpoint #${sequence}`);
    return JSON.parse(data) as CheckpointRecord;
  }

  async setCheckpoint(sequence: number, record: CheckpointRecord): Promise<void> {
    this.db.prepare('UPDATE events SET data = ? WHERE stream_id = ? AND revision = ?').run(JSON.stringify(record), CHECKPOINT_STREAM, sequence - 1);
  }

  async deleteCheckpoint(sequence: number): Promise<void> {
    this.db.prepare('DELETE FROM events WHERE stream_id = ? AND revision = ?').run(CHECKPOINT_STREAM, sequence - 1);
  }

  async checkpointCount(): Promise<number> {
    return this.db.prepare<[string], number>('SELECT COUNT(*) FROM events WHERE stream_id = ?').pluck().get(CHECKPOINT_STREAM)!;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/**
 * Tampering on PostgreSQL's events table. Positions must stay positive (a CHECK), so moves go
 * through a large offset rather than through negative numbers.
 */
export class PostgresTamper implements LogTamper {
  readonly label = 'PostgreSQL';
  private static readonly OFFSET = 1_000_000_000;

  private constructor(
    private readonly client: pg.Client,
    private readonly table: string,
  ) {}

  static async connect(url: string, schema = 'keyledger'): Promise<PostgresTamper> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new PostgresTamper(client, `"${schema}"."events"`);
  }

  private async rows<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
    return (await this.client.query<T>(sql, values)).rows;
  }

  async eventPositions(): Promise<number[]> {
    const rows = await this.rows<{ position: string }>(`SELECT position FROM ${this.table} WHERE stream_id <> $1 ORDER BY position`, [CHECKPOINT_STREAM]);
    return rows.map((row) => Number(row.position));
  }

  async eventAt(position: number) {
    const [row] = await this.rows<{ event_id: string; stream_id: string; type: string; data: unknown }>(`SELECT event_id, stream_id, type, data FROM ${this.table} WHERE position = $1`, [position]);
    return { eventId: row!.event_id, streamId: row!.stream_id, type: row!.type, data: row!.data };
  }

  async setData(position: number, data: unknown): Promise<void> {
    await this.client.query(`UPDATE ${this.table} SET data = $1 WHERE position = $2`, [JSON.stringify(data), position]);
  }

  async setRecordedAt(position: number, recordedAt: string): Promise<void> {
    await this.client.query(`UPDATE ${this.table} SET recorded_at = $1 WHERE position = $2`, [recordedAt, position]);
  }

  async deleteEvent(position: number): Promise<void> {
    await this.client.query(`DELETE FROM ${this.table} WHERE position = $1`, [position]);
  }

  async insertForgedAt(position: number): Promise<string> {
    const eventId = randomUUID();
    const offset = PostgresTamper.OFFSET;
    await this.client.query('BEGIN');
    await this.client.query(`UPDATE ${this.table} SET position = position + ${offset} WHERE position >= $1`, [position]);
    await this.client.query(`UPDATE ${this.table} SET position = position - ${offset - 1} WHERE position >= $1`, [offset + position]);
    await this.client.query(
      `INSERT INTO ${this.table} (position, event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at)
       SELECT $1, $2, 'key-forged', 0, 'KeyGenerated', 1, $3, $4, COALESCE((SELECT recorded_at FROM ${this.table} WHERE position < $1 ORDER BY position DESC LIMIT 1), now())`,
      [position, eventId, JSON.stringify(FORGED_DATA), JSON.stringify(FORGED_METADATA)],
    );
    await this.client.query('COMMIT');
    return eventId;
  }

  async swap(a: number, b: number): Promise<void> {
    const parked = PostgresTamper.OFFSET + a;
    await this.client.query('BEGIN');
    await this.client.query(`UPDATE ${this.table} SET position = $1 WHERE position = $2`, [parked, a]);
    await this.client.query(`UPDATE ${this.table} SET position = $1 WHERE position = $2`, [a, b]);
    await this.client.query(`UPDATE ${this.table} SET position = $1 WHERE position = $2`, [b, parked]);
    await this.client.query('COMMIT');
  }

  async truncateEventsFrom(position: number): Promise<void> {
    await this.client.query(`DELETE FROM ${this.table} WHERE position >= $1 AND stream_id <> $2`, [position, CHECKPOINT_STREAM]);
  }

  async truncateAllFrom(position: number): Promise<void> {
    await this.client.query(`DELETE FROM ${this.table} WHERE position >= $1`, [position]);
  }

  async checkpoint(sequence: number): Promise<CheckpointRecord> {
    const [row] = await this.rows<{ data: CheckpointRecord }>(`SELECT data FROM ${this.table} WHERE stream_id = $1 AND revision = $2`, [CHECKPOINT_STREAM, sequence - 1]);
    if (!row) throw new Error(`no checkpoint #${sequence}`);
    return row.data;
  }

  async setCheckpoint(sequence: number, record: CheckpointRecord): Promise<void> {
    await this.client.query(`UPDATE ${this.table} SET data = $1 WHERE stream_id = $2 AND revision = $3`, [JSON.stringify(record), CHECKPOINT_STREAM, sequence - 1]);
  }

  async deleteCheckpoint(sequence: number): Promise<void> {
    await this.client.query(`DELETE FROM ${this.table} WHERE stream_id = $1 AND revision = $2`, [CHECKPOINT_STREAM, sequence - 1]);
  }

  async checkpointCount(): Promise<number> {
    const [row] = await this.rows<{ count: string }>(`SELECT COUNT(*) AS count FROM ${this.table} WHERE stream_id = $1`, [CHECKPOINT_STREAM]);
    return Number(row!.count);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

// ── building a sealed log ───────────────────────────────────────────────

export const quietLogger = { event: () => undefined };

export interface LogShape {
  /** Number of appends; each puts 1 to 3 events on one of the streams. */
  readonly appends: number;
  readonly streams: number;
  readonly checkpointEvery: number;
}

/** Appends a log of key events and lets a real sealer seal it, then stops the sealer (shutdown checkpoint). */
export async function buildSealedLog(store: EventStore, signer: CheckpointSigner, shape: LogShape, seed = 1): Promise<void> {
  const sealer = new AuditSealer({ store, signer, checkpointEvery: shape.checkpointEvery, checkpointIntervalMs: 3_600_000, logger: quietLogger });
  await sealer.start();
  const revisions = new Map<string, number>();
  // Park–Miller: small enough to stay exact in a double, deterministic per seed.
  let random = 1 + (seed % 2147483646);
  const next = (n: number): number => {
    random = (random * 48271) % 2147483647;
    return random % n;
  };
  for (let i = 0; i < shape.appends; i += 1) {
    const streamId = `key-k${next(shape.streams)}`;
    const events = Array.from({ length: 1 + next(3) }, (_, j) => sampleEvent(streamId, i, j));
    const revision = revisions.get(streamId);
    const result = await store.appendToStream(streamId, events, revision ?? 'no-stream');
    revisions.set(streamId, result.nextExpectedRevision);
  }
  await sealer.stop();
}

function sampleEvent(streamId: string, append: number, part: number): NewEvent {
  const types = ['KeyGenerated', 'KeyActivated', 'KeyRotated', 'KeyUsed', 'KeySuspended'];
  return {
    type: types[(append + part) % types.length]!,
    schemaVersion: 1,
    data: { keyId: streamId.slice(4), version: 1 + part, fingerprint: `fp-${append}-${part}`, classifications: ['ephi'], nested: { at: append } },
    metadata: { actor: `p-${append % 3}`, tenantId: 'tenant-a', correlationId: `c-${append}`, causationId: null, idempotencyKey: null },
  };
}

// ── forging checkpoints ─────────────────────────────────────────────────

/** The genuine software signing key of a data dir, as an insider who copied it would use it. */
export const genuineSigningKey = (dataDir: string): KeyObject => createPrivateKey(readFileSync(join(dataDir, AUDIT_SIGNING_KEY_FILE), 'utf8'));

/** The raw key of an Ed25519 private key: the last 32 bytes of its SubjectPublicKeyInfo. */
const rawPublicKeyOf = (privateKey: KeyObject): Buffer => createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-32);

/** Signs a head again with `privateKey` (and names that key in the head when `rename`). */
export function resignHead(checkpoint: SignedCheckpoint, privateKey: KeyObject, rename: boolean): SignedCheckpoint {
  const head = rename ? { ...checkpoint.head, keyId: keyIdOf(rawPublicKeyOf(privateKey)) } : checkpoint.head;
  return { head, signature: sign(null, signedHeadBytes(head), privateKey).toString('base64') };
}

/** The same for a checkpoint event's record, which also publishes the signer's public key. */
export function resign(record: CheckpointRecord, privateKey: KeyObject, rename: boolean): CheckpointRecord {
  const publicKey = rename ? rawPublicKeyOf(privateKey).toString('base64') : record.publicKey;
  return { ...record, ...resignHead(record, privateKey, rename), publicKey };
}

export const anotherKey = (): KeyObject => generateKeyPairSync('ed25519').privateKey;
