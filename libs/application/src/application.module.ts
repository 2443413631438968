import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { KeyCustodian } from '@keyledger/custody';
import type { EventStore, IdempotencyStore } from '@keyledger/event-store';
import { AccessDenials } from './access/access-denials.js';
import { DestroyKeyHandler } from './keys/destroy.js';
import { DistributeKeyHandler } from './keys/distribute.js';
import { GenerateKeyHandler } from './keys/generate.js';
import { KeyCatalog } from './keys/key-catalog.js';
import { KeyLifecycle } from './keys/key-lifecycle.js';
import { KeyRepository } from './keys/key-repository.js';
import { ParentKeys } from './keys/parent-keys.js';
import { GetKeyHandler, KeyHistoryHandler, ListKeysHandler } from './keys/queries.js';
import { RotateKeyHandler } from './keys/rotate.js';
import { ScheduleDestructionHandler } from './keys/schedule-destruction.js';
import {
  ActivateKeyHandler,
  CancelDestructionHandler,
  DeactivateKeyHandler,
  ReactivateKeyHandler,
  RevokeKeyHandler,
  SuspendKeyHandler,
} from './keys/state-changes.js';
import { UsageLog } from './keys/usage-log.js';
import { UpdateKeyMetadataHandler } from './keys/update-metadata.js';
import { DecryptHandler, EncryptHandler, GenerateDataKeyHandler, KeyUses, RewrapHandler } from './data-plane/index.js';
import { DekRewrapJob, DekRewrapWorker, KeyHierarchy } from './keys/rewrap-job/index.js';
import { DestructionCertificateHandler, DestructionImpactHandler, DestructionReports } from './keys/destruction-report/index.js';
import { Principals } from './principals/principals.js';
import { Approvals } from './governance/approvals.js';
import { Ceremonies } from './governance/ceremonies.js';
import { RotationScheduler } from './governance/rotation-scheduler.js';
import { Recipients } from './recipients/recipients.js';
import { AuditEventsHandler, ExportAuditEventsHandler } from './read/audit-events.js';
import { ComplianceHandler } from './read/compliance.js';
import { KeyLineageHandler } from './read/lineage.js';
import { ProjectionStatusHandler } from './read/projection-status.js';
import { READ_MODEL_STORAGE, ReadSideService } from './read/read-side.service.js';
import type { ReadModelStorage } from '@keyledger/read-models';
import {
  CLOCK,
  ENGINE_SETTINGS,
  EVENT_STORE,
  IDEMPOTENCY_STORE,
  KEY_CUSTODIAN,
  type Clock,
  type EngineSettings,
} from './shared/tokens.js';

export interface EnginePorts {
  readonly eventStore: EventStore;
  readonly idempotencyStore: IdempotencyStore;
  readonly custodian: KeyCustodian;
  readonly clock: Clock;
  readonly settings: EngineSettings;
  /** Where projections keep their read models; absent: in memory, rebuilt at each start. */
  readonly readModels?: ReadModelStorage;
}

const handlers = [
  UpdateKeyMetadataHandler,
  GenerateKeyHandler,
  ActivateKeyHandler,
  RotateKeyHandler,
  SuspendKeyHandler,
  ReactivateKeyHandler,
  DeactivateKeyHandler,
  RevokeKeyHandler,
  ScheduleDestructionHandler,
  CancelDestructionHandler,
  DestroyKeyHandler,
  DistributeKeyHandler,
  GetKeyHandler,
  ListKeysHandler,
  KeyHistoryHandler,
  AuditEventsHandler,
  ExportAuditEventsHandler,
  ComplianceHandler,
  KeyLineageHandler,
  ProjectionStatusHandler,
  GenerateDataKeyHandler,
  EncryptHandler,
  DecryptHandler,
  RewrapHandler,
  DestructionImpactHandler,
  DestructionCertificateHandler,
];

const services = [ReadSideService, Approvals, Ceremonies, RotationScheduler, AccessDenials, KeyRepository, KeyLifecycle, KeyCatalog, ParentKeys, UsageLog, Principals, Recipients, KeyUses, KeyHierarchy, DekRewrapJob, DekRewrapWorker, DestructionReports];

/** The application layer: CQRS handlers over the ports the composition root provides. */
@Module({})
export class ApplicationModule {
  static register(ports: EnginePorts): DynamicModule {
    return {
      module: ApplicationModule,
      global: true,
      imports: [CqrsModule.forRoot()],
      providers: [
        { provide: EVENT_STORE, useValue: ports.eventStore },
        { provide: IDEMPOTENCY_STORE, useValue: ports.idempotencyStore },
        { provide: KEY_CUSTODIAN, useValue: ports.custodian },
        { provide: CLOCK, useValue: ports.clock },
        { provide: ENGINE_SETTINGS, useValue: ports.settings },
        { provide: READ_MODEL_STORAGE, useValue: ports.readModels ?? null },
        ...services,
        ...handlers,
      ],
      exports: [CqrsModule, EVENT_STORE, IDEMPOTENCY_STORE, KEY_CUSTODIAN, CLOCK, ENGINE_SETTINGS, ...services],
    };
  }
}
