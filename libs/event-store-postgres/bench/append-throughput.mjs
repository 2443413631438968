#!/usr/bin/env node
// Durable appends per second of the event store adapters, at concurrency 1 and 32, beside a raw
// `pg` batched insert measured in the same run (the ceiling), and beside the alternative global
// order design (sequence + xid8, transactions in parallel). Rough figures for docs/stores.md, not
// a test: run it after `npm run build` with PostgreSQL up (scripts/ensure-postgres.sh).
//
//   node libs/event-store-postgres/bench/append-throughput.mjs [seconds per measurement, default 3]
//
// KEYLEDGER_TEST_PG_URL names the server (default postgres://postgres@127.0.0.1:5432/postgres).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresEventStore } from '../../../dist/libs/event-store-postgres/src/index.js';
import { SqliteEventStore } from '../../../dist/libs/event-store-sqlite/src/index.js';

const seconds = Number(process.argv[2] ?? 3);
const adminUrl = process.env.KEYLEDGER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const metadata = { actor: 'system:bench', tenantId: 'bench', correlationId: 'c', causationId: null, idempotencyKey: null };
const event = (n) => ({ type: 'KeyUsed', schemaVersion: 1, data: { keyId: `key-${n}`, operation: 'encrypt', n }, metadata });

/** Runs `writers` loops, each awaiting `appendOnce` back to back, for `seconds`; returns appends/s. */
async function measure(writers, appendOnce) {
  let appends = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let n = 0; Date.now() < deadline; n++) {
        await appendOnce(writer, n);
        appends += 1;
      }
    }),
  );
  return appends / (Number(process.hrtime.bigint() - started) / 1e9);
}

const format = (perSecond) => Math.round(perSecond).toLocaleString('en-US').padStart(9);

async function withDatabase(work) {
  const name = `keyledger_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await work(url.toString());
  } finally {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** The ceiling: rows per second of multi-row INSERTs of 100 rows, autocommit, one connection. */
async function rawBatchedInsert(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('CREATE TABLE raw (id bigserial PRIMARY KEY, stream text NOT NULL, data json NOT NULL)');
  const batch = 100;
  const streams = Array.from({ length: batch }, (_, i) => `s-${i}`);
  const rowsPerSecond =
    batch *
    (await measure(1, (_, n) =>
      client.query('INSERT INTO raw (stream, data) SELECT * FROM unnest($1::text[], $2::json[])', [
        streams,
        streams.map((s) => JSON.stringify({ s, n })),
      ]),
    ));
  await client.end();
  return rowsPerSecond;
}

/** Our adapter: appends of one event to distinct streams, `writers` at once. */
async function postgresAdapter(url, writers, options = {}) {
  const store = PostgresEventStore.open({ connectionString: url, schema: `bench_${randomBytes(3).toString('hex')}`, poolSize: 4, ...options });
  await store.ready();
  const perSecond = await measure(writers, (writer, n) => store.appendToStream(`w${writer}-${n}`, [event(n)], 'no-stream'));
  const { commits, appends } = store.stats();
  await store.close();
  return { perSecond, appendsPerCommit: appends / commits };
}

/**
 * The alternative design, in plain SQL: positions from a sequence, xid8 stored for readers to stop
 * below pg_snapshot_xmin, every append its own transaction, `writers` connections in parallel.
 */
async function xidSequenceDesign(url, writers) {
  const pool = new pg.Pool({ connectionString: url, max: writers });
  const table = `xid_events_${writers}`;
  await pool.query(`CREATE TABLE ${table} (
    position bigserial PRIMARY KEY, xid xid8 NOT NULL DEFAULT pg_current_xact_id(), stream_id text NOT NULL,
    revision integer NOT NULL, type text NOT NULL, data json NOT NULL, UNIQUE (stream_id, revision))`);
  const perSecond = await measure(writers, async (writer, n) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT max(revision) FROM ${table} WHERE stream_id = $1`, [`w${writer}-${n}`]);
      await client.query(`INSERT INTO ${table} (stream_id, revision, type, data) VALUES ($1, 0, $2, $3)`, [
        `w${writer}-${n}`,
        'KeyUsed',
        JSON.stringify(event(n).data),
      ]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  });
  await pool.end();
  return perSecond;
}

async function sqliteAdapter(writers) {
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-bench-'));
  const store = SqliteEventStore.open(join(dir, 'events.db'));
  const perSecond = await measure(writers, (writer, n) => store.appendToStream(`w${writer}-${n}-${randomUUID()}`, [event(n)], 'no-stream'));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return perSecond;
}

await withDatabase(async (url) => {
  const { rows } = await new pg.Pool({ connectionString: url, max: 1 }).query('SHOW synchronous_commit');
  console.log(`durable appends per second (${seconds} s each; synchronous_commit=${rows[0].synchronous_commit}; one event per append)\n`);
  console.log(`raw pg batched INSERT (100 rows/statement, autocommit)  ${format(await rawBatchedInsert(url))} rows/s  (ceiling)`);
  for (const writers of [1, 32]) {
    const grouped = await postgresAdapter(url, writers);
    const alone = await postgresAdapter(url, writers, { maxBatchSize: 1 });
    const xid = await xidSequenceDesign(url, writers);
    const sqlite = await sqliteAdapter(writers);
    console.log(`\nconcurrency ${writers}`);
    console.log(`  PostgresEventStore (log-head lock, group commit)        ${format(grouped.perSecond)} /s  (${grouped.appendsPerCommit.toFixed(1)} appends per commit)`);
    console.log(`  PostgresEventStore, maxBatchSize 1 (lock, no grouping)  ${format(alone.perSecond)} /s`);
    console.log(`  sequence + xid8, parallel transactions (alternative)   ${format(xid)} /s`);
    console.log(`  SqliteEventStore (WAL, synchronous=FULL, group commit)  ${format(sqlite)} /s`);
  }
  console.log('\nEventStoreDB: not measured here (no server); run against `docker compose up -d eventstore`.');
});
