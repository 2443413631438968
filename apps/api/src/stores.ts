import { join } from 'node:path';
import type { MaterialStore } from '@keyledger/custody';
import type { EventStore, IdempotencyStore } from '@keyledger/event-store';
import { EsdbEventStore } from '@keyledger/event-store-esdb';
import { PostgresDatabase, PostgresEventStore, PostgresIdempotencyStore, PostgresMaterialStore } from '@keyledger/event-store-postgres';
import { SqliteEventStore, SqliteIdempotencyStore } from '@keyledger/event-store-sqlite';
import { ConfigurationError, type KeyledgerConfig } from './config.js';

/**
 * The stores the configuration names. Closing `eventStore` closes everything opened here, so
 * callers that only need the log (the CLI, tests) close one thing.
 */
export interface Stores {
  readonly eventStore: EventStore;
  readonly idempotencyStore: IdempotencyStore;
  /** Where the software custodian keeps sealed material; absent: its own SQLite file in the data dir. */
  readonly materialStore?: MaterialStore;
  /** Resolves once the stores are reachable (and migrated); rejects with the reason they are not. */
  ready(): Promise<void>;
}

const EVENTS_FILE = 'events.db';
const IDEMPOTENCY_FILE = 'idempotency.db';

/** Opening is synchronous (connections are made on first use); `ready()` reports a store that cannot be reached. */
export const openStores = (config: KeyledgerConfig, dataDir: string): Stores => {
  switch (config.store) {
    case 'sqlite':
      return sqliteStores(join(dataDir, EVENTS_FILE));
    case 'postgres':
      return postgresStores(required(config.pgUrl, 'KEYLEDGER_PG_URL', config.store));
    case 'esdb':
      return esdbStores(required(config.esdbUrl, 'KEYLEDGER_ESDB_URL', config.store), config.pgUrl, dataDir);
    default: {
      const _exhaustive: never = config.store;
      throw new ConfigurationError(`unknown store ${String(_exhaustive)}`);
    }
  }
};

/** Events, idempotency records (and, through the custodian's own file, material) under the data dir. */
const sqliteStores = (eventsFile: string): Stores => {
  const eventStore = SqliteEventStore.open(eventsFile);
  return { eventStore, idempotencyStore: new SqliteIdempotencyStore(eventStore.database), ready: async () => undefined };
};

/** Everything in one database, so that API processes behind a load balancer keep no local state but root.key. */
const postgresStores = (connectionString: string): Stores => {
  const eventStore = PostgresEventStore.open({ connectionString });
  return {
    eventStore,
    idempotencyStore: new PostgresIdempotencyStore(eventStore.database),
    materialStore: new PostgresMaterialStore(eventStore.database),
    ready: () => eventStore.ready(),
  };
};

/**
 * The log in EventStoreDB; idempotency records and key material are mutable, so they live beside
 * it: in PostgreSQL when KEYLEDGER_PG_URL is set (stateless API processes), else in SQLite files
 * under the data dir (one API process).
 */
const esdbStores = (connectionString: string, pgUrl: string | undefined, dataDir: string): Stores => {
  const events = EsdbEventStore.open({ connectionString });
  if (pgUrl) {
    const database = PostgresDatabase.open({ connectionString: pgUrl });
    return {
      eventStore: closingAlso(events, () => database.close()),
      idempotencyStore: new PostgresIdempotencyStore(database),
      materialStore: new PostgresMaterialStore(database),
      ready: async () => {
        await Promise.all([events.ready(), database.ready()]);
      },
    };
  }
  const idempotencyStore = SqliteIdempotencyStore.open(join(dataDir, IDEMPOTENCY_FILE));
  return { eventStore: closingAlso(events, () => idempotencyStore.close()), idempotencyStore, ready: () => events.ready() };
};

/** The same store, whose close() also closes what was opened beside it. */
const closingAlso = (store: EventStore, closeAlso: () => Promise<void>): EventStore => {
  const closing = Object.create(store) as EventStore;
  closing.close = async () => {
    try {
      await store.close();
    } finally {
      await closeAlso();
    }
  };
  return closing;
};

const required = (value: string | undefined, name: string, store: string): string => {
  if (value === undefined) throw new ConfigurationError(`KEYLEDGER_STORE=${store} needs ${name}`);
  return value;
};
