import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { EventStore } from '@keyledger/event-store';
import { ReadSide, SqliteReadModelStorage, type ProjectionName, type ProjectionStatus, type ReadModelStorage } from '@keyledger/read-models';
import { EVENT_STORE } from '../shared/tokens.js';

/** The read-model storage the composition root opened (null: keep read models in memory). */
export const READ_MODEL_STORAGE = Symbol('READ_MODEL_STORAGE');

/**
 * Runs the projections while the application runs: started with the module, stopped (after
 * committing what it received) at shutdown. Queries ask it to catch up to the log's head first,
 * so that a read shows every command acknowledged before it.
 */
@Injectable()
export class ReadSideService implements OnModuleInit, OnApplicationShutdown {
  private readonly readSide: ReadSide;
  private readonly ownsStorage: boolean;
  private readonly logger = new Logger('ReadSide');

  constructor(@Inject(EVENT_STORE) store: EventStore, @Inject(READ_MODEL_STORAGE) storage: ReadModelStorage | null) {
    this.ownsStorage = storage === null;
    this.readSide = new ReadSide(store, storage ?? SqliteReadModelStorage.open(':memory:'), {
      logger: { warn: (message) => this.logger.warn(message), error: (message) => this.logger.error(message) },
    });
  }

  get storage(): ReadModelStorage {
    return this.readSide.storage;
  }

  async onModuleInit(): Promise<void> {
    if (this.ownsStorage) this.logger.warn('no read-model storage configured: projections are kept in memory and rebuilt at each start');
    await this.readSide.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.readSide.stop();
    if (this.ownsStorage) await this.readSide.storage.close();
  }

  /** Waits until these projections have applied every event appended before this call. */
  caughtUp(projections: readonly ProjectionName[]): Promise<void> {
    return this.readSide.caughtUp(projections);
  }

  status(): Promise<ProjectionStatus[]> {
    return this.readSide.status();
  }
}
