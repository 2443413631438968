import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@keyledger/event-store-sqlite';
import { seedContractLog } from '../../../test/log-writer.js';
import { readModelStorageContract } from '../contract.js';
import { READ_MODEL_SCHEMA_VERSION } from '../schema-version.js';
import { SqliteReadModelStorage } from './sqlite-read-model-storage.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'keyledger-rm-sqlite-'));

readModelStorageContract(
  'SqliteReadModelStorage',
  async () => {
    const dir = tempDir();
    const store = SqliteEventStore.open(join(dir, 'events.db'));
    const keys = await seedContractLog(store);
    return { store, keys, close: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
  },
  async () => {
    const dir = tempDir();
    const storage = SqliteReadModelStorage.open(join(dir, 'nested', 'read-models.db'));
    return { storage, cleanup: async () => (await storage.close(), rmSync(dir, { recursive: true, force: true })) };
  },
);

describe('SqliteReadModelStorage', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('opens its file in WAL mode with NORMAL synchronous commits (each commit carries its own checkpoint)', async () => {
    const storage = SqliteReadModelStorage.open(join(dir, 'read-models.db'));
    try {
      expect(storage.database.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(storage.database.pragma('synchronous', { simple: true })).toBe(1);
      expect(storage.database.pragma('user_version', { simple: true })).toBe(READ_MODEL_SCHEMA_VERSION);
    } finally {
      await storage.close();
    }
  });

  it('recreates its tables empty, at position 0, when they were made by another schema version', async () => {
    const file = join(dir, 'read-models.db');
    const first = SqliteReadModelStorage.open(file);
    await first.commit({ expectedPosition: 0, position: 5, writes: { projection: 'audit', entries: [], subjects: [] }, unknown: [] });
    first.database.pragma(`user_version = ${READ_MODEL_SCHEMA_VERSION + 100}`);
    await first.close();
    const reopened = SqliteReadModelStorage.open(file);
    try {
      expect((await reopened.checkpoints.get('audit')).position).toBe(0);
    } finally {
      await reopened.close();
    }
  });

  it('keeps its checkpoints across close and reopen at the same schema version', async () => {
    const file = join(dir, 'read-models.db');
    const first = SqliteReadModelStorage.open(file);
    await first.commit({ expectedPosition: 0, position: 9, writes: { projection: 'inventory', changes: [] }, unknown: [] });
    await first.close();
    const reopened = SqliteReadModelStorage.open(file);
    try {
      expect((await reopened.checkpoints.get('inventory')).position).toBe(9);
    } finally {
      await reopened.close();
    }
  });
});
