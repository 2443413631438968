import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@keyledger/event-store-sqlite';
import { createTestDatabase, uniqueSchema, withConnection, type TestDatabase } from '../../../../event-store-postgres/test/test-database.js';
import { seedContractLog } from '../../../test/log-writer.js';
import { readModelStorageContract } from '../contract.js';
import { READ_MODEL_SCHEMA_VERSION } from '../schema-version.js';
import { PostgresReadModelStorage } from './postgres-read-model-storage.js';

/** Every case gets a schema of its own in one database created for this file. */
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('readmodels');
});
afterAll(() => database.drop());

readModelStorageContract(
  'PostgresReadModelStorage',
  async () => {
    // The log itself may live anywhere: the read models only read it.
    const dir = mkdtempSync(join(tmpdir(), 'keyledger-rm-pg-'));
    const store = SqliteEventStore.open(join(dir, 'events.db'));
    const keys = await seedContractLog(store);
    return { store, keys, close: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
  },
  async () => {
    const storage = PostgresReadModelStorage.open({ connectionString: database.url, schema: uniqueSchema('rm') });
    await storage.whenReady();
    return { storage, cleanup: () => storage.close() };
  },
);

describe('PostgresReadModelStorage', () => {
  it('keeps its tables beside the store tables, in the same schema, under rm_ names', async () => {
    const schema = uniqueSchema('rm');
    const storage = PostgresReadModelStorage.open({ connectionString: database.url, schema });
    await storage.whenReady();
    await storage.close();
    const tables = await withConnection(database.url, async (client) =>
      (await client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema])).rows.map((r) => r.table_name),
    );
    expect(tables).toEqual(expect.arrayContaining(['events', 'rm_audit_entries', 'rm_checkpoints', 'rm_inventory_current', 'rm_inventory_history', 'rm_meta']));
  });

  it('recreates its tables at position 0 when they were made by another schema version, and only then', async () => {
    const schema = uniqueSchema('rm');
    const first = PostgresReadModelStorage.open({ connectionString: database.url, schema });
    await first.commit({ expectedPosition: 0, position: 5, writes: { projection: 'audit', entries: [], subjects: [] }, unknown: [] });
    await first.close();
    const same = PostgresReadModelStorage.open({ connectionString: database.url, schema });
    expect((await same.checkpoints.get('audit')).position).toBe(5);
    await same.close();
    await withConnection(database.url, (client) => client.query(`UPDATE "${schema}".rm_meta SET version = $1`, [READ_MODEL_SCHEMA_VERSION + 100]));
    const other = PostgresReadModelStorage.open({ connectionString: database.url, schema });
    try {
      expect((await other.checkpoints.get('audit')).position).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('lets exactly one of two concurrent commits from the same checkpoint win', async () => {
    const storage = PostgresReadModelStorage.open({ connectionString: database.url, schema: uniqueSchema('rm') });
    try {
      const commit = (position: number) => storage.commit({ expectedPosition: 0, position, writes: { projection: 'compliance', keys: [], facts: [] }, unknown: [] });
      const outcomes = await Promise.allSettled([commit(3), commit(4)]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: { code: 'READ_MODEL.CHECKPOINT_MOVED' } });
    } finally {
      await storage.close();
    }
  });
});
