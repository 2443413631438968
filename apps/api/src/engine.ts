import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { systemClock, type Clock, type EnginePorts } from '@keyledger/application';
import { SoftwareCustodian, type KeyCustodian } from '@keyledger/custody';
import type { EventStore, IdempotencyStore } from '@keyledger/event-store';
import { SqliteEventStore, SqliteIdempotencyStore } from '@keyledger/event-store-sqlite';
import { ConfigurationError, type KeyledgerConfig } from './config.js';
import type { JsonLogger } from './observability/logger.js';

export interface Engine {
  readonly ports: EnginePorts;
  close(): Promise<void>;
}

const EVENTS_FILE = 'events.db';

/** The composition root: the adapters the configuration names, opened and ready. */
export const openEngine = async (config: KeyledgerConfig, logger: JsonLogger, clock: Clock = systemClock): Promise<Engine> => {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const stores = openStores(config, dataDir);
  const custodian = await openCustodian(config, dataDir, logger).catch(async (error: unknown) => {
    await stores.eventStore.close();
    throw error;
  });
  return {
    ports: {
      ...stores,
      custodian,
      clock,
      settings: {
        destructionWaitMinDays: config.destructionWaitMinDays,
        approvalsRequired: config.approvalsRequired,
        approvalTtlHours: config.approvalTtlHours,
        schedulerIntervalMs: config.schedulerIntervalMs,
        autoRotate: config.autoRotate,
      },
    },
    close: async () => {
      await custodian.close();
      await stores.eventStore.close();
    },
  };
};

export const openStores = (config: KeyledgerConfig, dataDir: string): { eventStore: EventStore; idempotencyStore: IdempotencyStore } => {
  switch (config.store) {
    case 'sqlite': {
      const eventStore = SqliteEventStore.open(join(dataDir, EVENTS_FILE));
      return { eventStore, idempotencyStore: new SqliteIdempotencyStore(eventStore.database) };
    }
    case 'postgres':
    case 'esdb':
      throw new ConfigurationError(`KEYLEDGER_STORE=${config.store} is not available in this build yet; use sqlite`);
    default: {
      const _exhaustive: never = config.store;
      throw new ConfigurationError(`unknown store ${String(_exhaustive)}`);
    }
  }
};

const openCustodian = async (config: KeyledgerConfig, dataDir: string, logger: JsonLogger): Promise<KeyCustodian> => {
  switch (config.custodian) {
    case 'software':
      return SoftwareCustodian.open({
        dataDir,
        logger: { log: (m: string) => logger.event('info', m), warn: (m: string) => logger.event('warn', m) },
      });
    case 'pkcs11':
    case 'aws-kms':
      throw new ConfigurationError(`KEYLEDGER_CUSTODIAN=${config.custodian} is not available in this build yet; use software`);
    default: {
      const _exhaustive: never = config.custodian;
      throw new ConfigurationError(`unknown custodian ${String(_exhaustive)}`);
    }
  }
};
