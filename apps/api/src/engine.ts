import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { systemClock, type Clock, type EnginePorts } from '@keyledger/application';
import { SoftwareCustodian, type KeyCustodian, type MaterialStore } from '@keyledger/custody';
import { ConfigurationError, type KeyledgerConfig } from './config.js';
import { custodyLoggerOf, dekCacheOf, openAwsKmsCustodian, openPkcs11Custodian } from './custodians.js';
import type { JsonLogger } from './observability/logger.js';
import { openStores } from './stores.js';
import { PostgresReadModelStorage, SqliteReadModelStorage, type ReadModelStorage } from '@keyledger/read-models';

export { openStores, type Stores } from './stores.js';

export interface Engine {
  readonly ports: EnginePorts;
  close(): Promise<void>;
}

/** The composition root: the adapters the configuration names, opened and ready. */
export const openEngine = async (config: KeyledgerConfig, logger: JsonLogger, clock: Clock = systemClock): Promise<Engine> => {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const stores = openStores(config, dataDir);
  await stores.ready().catch(async (error: unknown) => {
    await stores.eventStore.close().catch(() => undefined); // the reason the store is unreachable matters, not this
    throw error;
  });
  const custodian = await openCustodian(config, dataDir, logger, stores.materialStore).catch(async (error: unknown) => {
    await stores.eventStore.close();
    throw error;
  });
  const readModels = await openReadModels(config, dataDir).catch(async (error: unknown) => {
    await custodian.close();
    await stores.eventStore.close();
    throw error;
  });
  return {
    ports: {
      readModels,
      eventStore: stores.eventStore,
      idempotencyStore: stores.idempotencyStore,
      custodian,
      clock,
      settings: {
        destructionWaitMinDays: config.destructionWaitMinDays,
        approvalsRequired: config.approvalsRequired,
        approvalTtlHours: config.approvalTtlHours,
        schedulerIntervalMs: config.schedulerIntervalMs,
        autoRotate: config.autoRotate,
        rewrapPauseMs: config.rewrapPauseMs,
      },
    },
    close: async () => {
      await readModels.close();
      await custodian.close();
      await stores.eventStore.close();
    },
  };
};

const openCustodian = async (
  config: KeyledgerConfig,
  dataDir: string,
  logger: JsonLogger,
  materialStore: MaterialStore | undefined,
): Promise<KeyCustodian> => {
  switch (config.custodian) {
    case 'software':
      return SoftwareCustodian.open({
        dataDir,
        ...(materialStore ? { materialStore } : {}),
        cache: dekCacheOf(config),
        logger: { log: (m: string) => logger.event('info', m), warn: (m: string) => logger.event('warn', m) },
      });
    case 'pkcs11':
      return openPkcs11Custodian(config, { dataDir, materialStore, logger: custodyLoggerOf(logger) });
    case 'aws-kms':
      return openAwsKmsCustodian(config, { dataDir, materialStore, logger: custodyLoggerOf(logger) });
    default: {
      const _exhaustive: never = config.custodian;
      throw new ConfigurationError(`unknown custodian ${String(_exhaustive)}`);
    }
  }
};

const READ_MODELS_FILE = 'read-models.db';

/**
 * Where the projections keep their read models: beside the events in PostgreSQL when there is a
 * PostgreSQL database (API processes then keep no local state), else in their own SQLite file in
 * the data dir, apart from the event log so that projection writes never hold its write lock.
 */
export const openReadModels = async (config: KeyledgerConfig, dataDir: string): Promise<ReadModelStorage> => {
  if (config.pgUrl !== undefined && (config.store === 'postgres' || config.store === 'esdb')) {
    const storage = PostgresReadModelStorage.open({ connectionString: config.pgUrl });
    await storage.whenReady().catch(async (error: unknown) => {
      await storage.close().catch(() => undefined); // the reason it is unreachable matters, not this
      throw error;
    });
    return storage;
  }
  return SqliteReadModelStorage.open(resolve(dataDir, READ_MODELS_FILE));
};
