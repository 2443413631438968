import { ConcurrencyError } from '@keyledger/event-store';
import { range, testEvent, uniqueStreamId } from '../../event-store/src/contract-helpers.js';
import { eventStoreContract, idempotencyContract } from '../../event-store/src/contract.js';
import { createTestDatabase, uniqueSchema, withConnection, type TestDatabase } from '../test/test-database.js';
import { migrations, SchemaTooNewError } from './migrations.js';
import { PostgresEventStore, type PostgresEventStoreOptions } from './postgres-event-store.js';
import { PostgresIdempotencyStore } from './postgres-idempotency-store.js';

/** One database for this file, one schema per test: the contract suites need an empty store each time. */
let database: TestDatabase | undefined;
const testDatabase = async (): Promise<TestDatabase> => (database ??= await createTestDatabase('store'));
afterAll(async () => {
  await database?.drop();
});

const openStore = async (schema: string, options: Partial<PostgresEventStoreOptions> = {}): Promise<PostgresEventStore> => {
  const store = PostgresEventStore.open({ connectionString: (await testDatabase()).url, schema, poolSize: 4, ...options });
  await store.ready();
  return store;
};

const dropSchema = async (schema: string): Promise<void> => {
  await withConnection((await testDatabase()).url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
};

eventStoreContract('PostgresEventStore', async () => {
  const schema = uniqueSchema();
  const store = await openStore(schema);
  const reopened: PostgresEventStore[] = [];
  return {
    store,
    reopen: async () => {
      const again = await openStore(schema);
      reopened.push(again);
      return again;
    },
    cleanup: async () => {
      await Promise.all([store, ...reopened].map((s) => s.close()));
      await dropSchema(schema);
    },
  };
});

idempotencyContract('PostgresIdempotencyStore', async () => {
  const schema = uniqueSchema();
  const events = await openStore(schema);
  return {
    store: new PostgresIdempotencyStore(events.database),
    cleanup: async () => {
      await events.close();
      await dropSchema(schema);
    },
  };
});

describe('PostgresEventStore', () => {
  let schema: string;
  const opened: PostgresEventStore[] = [];
  const open = async (options: Partial<PostgresEventStoreOptions> = {}): Promise<PostgresEventStore> => {
    const store = await openStore(schema, options);
    opened.push(store);
    return store;
  };
  const sql = async <T>(text: string): Promise<T[]> =>
    withConnection((await testDatabase()).url, async (client) => (await client.query(text)).rows as T[]);

  beforeEach(() => {
    schema = uniqueSchema();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await dropSchema(schema);
  });

  describe('migrations', () => {
    it('creates the schema at the latest version on first open, and records each migration once', async () => {
      await open();
      await open(); // a second process starting on the same schema finds it done

      const applied = await sql<{ version: number; name: string }>(`SELECT version, name FROM "${schema}".schema_migrations ORDER BY version`);
      expect(applied).toEqual(migrations.map(({ version, name }) => ({ version, name })));
    });

    it('lets processes that start together on an empty database migrate it once', async () => {
      await Promise.all(range(4).map(() => open()));

      const applied = await sql<{ count: string }>(`SELECT count(*) FROM "${schema}".schema_migrations`);
      expect(Number(applied[0]!.count)).toBe(migrations.length);
    });

    it('refuses a schema migrated by a newer build, at start', async () => {
      await open();
      await sql(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES (${migrations.length + 1}, 'from the future')`);

      const newer = PostgresEventStore.open({ connectionString: (await testDatabase()).url, schema });
      try {
        await expect(newer.ready()).rejects.toBeInstanceOf(SchemaTooNewError);
        await expect(newer.headPosition()).rejects.toBeInstanceOf(SchemaTooNewError);
      } finally {
        await newer.close();
      }
    });

    it('refuses a schema name that would need quoting', () => {
      expect(() => PostgresEventStore.open({ connectionString: 'postgres://unused', schema: 'x"; DROP TABLE y; --' })).toThrow(RangeError);
    });
  });

  describe('group commit', () => {
    it('commits concurrent appends in fewer transactions than appends', async () => {
      const store = await open();

      await Promise.all(range(50).map((i) => store.appendToStream(uniqueStreamId(`batched-${i}`), [testEvent('E')], 'no-stream')));

      const { commits, appends } = store.stats();
      expect(appends).toBe(50);
      expect(commits).toBeLessThan(50);
      expect(commits).toBeGreaterThanOrEqual(2); // the first append commits alone, the rest queue behind it
    });

    it('bounds each transaction to maxBatchSize appends', async () => {
      const store = await open({ maxBatchSize: 8 });

      await Promise.all(range(50).map((i) => store.appendToStream(uniqueStreamId(`bounded-${i}`), [testEvent('E')], 'no-stream')));

      expect(store.stats().appends).toBe(50);
      expect(store.stats().commits).toBeGreaterThanOrEqual(Math.ceil(50 / 8));
    });

    it('fails only the conflicting append of a batch, and leaves no gap in the positions', async () => {
      const store = await open();
      const contested = uniqueStreamId('contested');
      await store.appendToStream(uniqueStreamId('first'), [testEvent('Alone')], 'no-stream');

      const outcomes = await Promise.allSettled([
        store.appendToStream(contested, [testEvent('First')], 'no-stream'),
        ...range(5).map((i) => store.appendToStream(uniqueStreamId(`bystander-${i}`), [testEvent('E')], 'no-stream')),
        store.appendToStream(contested, [testEvent('Second'), testEvent('Third')], 'no-stream'),
      ]);

      expect(outcomes.map((outcome) => outcome.status)).toEqual([...range(6).map(() => 'fulfilled'), 'rejected']);
      expect((outcomes[6] as PromiseRejectedResult).reason).toMatchObject({ streamId: contested, expected: 'no-stream', actual: 0 });
      expect((await store.readAll()).map((e) => e.position)).toEqual(range(7).map((i) => i + 1));
      expect(await store.headPosition()).toBe(7);
    });

    it('commits appends still queued when the store is closed', async () => {
      const store = await open();
      const streamId = uniqueStreamId('queued');
      const appends = range(10).map((i) => store.appendToStream(`${streamId}-${i}`, [testEvent('Queued')], 'no-stream'));
      await store.close();

      expect((await Promise.all(appends)).map((result) => result.lastPosition)).toEqual(range(10).map((i) => i + 1));
      await expect(store.appendToStream(streamId, [testEvent('Late')], 'any')).rejects.toThrow('closed');
      expect(await (await open()).headPosition()).toBe(10);
    });
  });

  describe('errors', () => {
    /** A trigger stands in for a writer that slipped past the lock, or for a failing server. */
    const installTrigger = async (body: string): Promise<void> => {
      await sql(`
        CREATE FUNCTION "${schema}".sabotage() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body} END $$;
        CREATE TRIGGER sabotage BEFORE INSERT ON "${schema}".events FOR EACH ROW EXECUTE FUNCTION "${schema}".sabotage();`);
    };

    it('maps a unique violation on (stream_id, revision) to a ConcurrencyError, and commits the rest of the batch', async () => {
      const store = await open();
      // For raced-* streams, another row takes the same revision just before ours is inserted.
      await installTrigger(`
        IF NEW.stream_id LIKE 'raced-%' AND NEW.position > 0 THEN
          INSERT INTO "${schema}".events (position, event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at)
          VALUES (-NEW.position, gen_random_uuid(), NEW.stream_id, NEW.revision, 'Intruder', 1, '{}', '{}', now());
        END IF;
        IF NEW.position < 0 THEN NEW.position := 1000000 - NEW.position; END IF;
        RETURN NEW;`);
      const raced = uniqueStreamId('raced');
      const bystander = uniqueStreamId('bystander');

      const [racedOutcome, bystanderOutcome] = await Promise.allSettled([
        store.appendToStream(raced, [testEvent('Mine')], 'no-stream'),
        store.appendToStream(bystander, [testEvent('Fine')], 'no-stream'),
      ]);

      expect(racedOutcome.status).toBe('rejected');
      expect((racedOutcome as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
      expect(bystanderOutcome.status).toBe('fulfilled');
      expect((await store.readStream(bystander)).map((e) => e.type)).toEqual(['Fine']);
      expect(await store.readStream(raced)).toEqual([]);
    });

    it('passes any other failure through unchanged, to that append alone', async () => {
      const store = await open();
      await installTrigger(`
        IF NEW.stream_id LIKE 'doomed-%' THEN RAISE EXCEPTION 'storage on fire' USING ERRCODE = 'XX000'; END IF;
        RETURN NEW;`);
      const doomed = uniqueStreamId('doomed');
      const bystander = uniqueStreamId('bystander');

      const [doomedOutcome, bystanderOutcome] = await Promise.allSettled([
        store.appendToStream(doomed, [testEvent('Never')], 'no-stream'),
        store.appendToStream(bystander, [testEvent('Fine')], 'no-stream'),
      ]);

      const failure = (doomedOutcome as PromiseRejectedResult).reason;
      expect(failure).not.toBeInstanceOf(ConcurrencyError);
      expect(failure).toMatchObject({ code: 'XX000', message: 'storage on fire' });
      expect(bystanderOutcome.status).toBe('fulfilled');
      expect(await store.headPosition()).toBe(1);
    });

    it('refuses an append with data that is not JSON before it reaches the database', async () => {
      const store = await open();

      await expect(store.appendToStream(uniqueStreamId('bad'), [testEvent('Fn', () => 1)], 'no-stream')).rejects.toThrow(TypeError);
      expect(await store.headPosition()).toBe(0);
    });

    it('fails with the connection error, and no hang, when the server cannot be reached', async () => {
      const unreachable = PostgresEventStore.open({ connectionString: 'postgres://postgres@127.0.0.1:1/none', schema, connectTimeoutMs: 2_000 });
      try {
        await expect(unreachable.ready()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
        await expect(unreachable.appendToStream('s', [testEvent('E')], 'any')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      } finally {
        await unreachable.close();
      }
    });
  });

  it('stores data and metadata as json that keeps the text as written', async () => {
    const store = await open();
    const data = { zeta: 1, alpha: { b: 2, a: 1 }, list: [3, 1, 2] };
    await store.appendToStream(uniqueStreamId('text'), [testEvent('Ordered', data)], 'no-stream');

    const [row] = await sql<{ data: string }>(`SELECT data::text AS data FROM "${schema}".events`);
    expect(row!.data).toBe(JSON.stringify(data));
  });
});
