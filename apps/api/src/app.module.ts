import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ApplicationModule, type EnginePorts } from '@keyledger/application';
import { AuthGuard } from './http/auth.guard.js';
import { IdempotencyInterceptor } from './http/idempotency.interceptor.js';
import { ProblemFilter } from './http/problem.filter.js';
import { KeysController } from './keys/keys.controller.js';
import { AuditEventsController } from './read/audit.controller.js';
import { ComplianceController } from './read/compliance.controller.js';
import { LineageController } from './read/lineage.controller.js';
import { ProjectionsController } from './read/projections.controller.js';
import { DataPlaneController } from './data-plane/data-plane.controller.js';
import { DestructionReportsController } from './data-plane/destruction-reports.controller.js';
import { ApprovalsController } from './governance/approvals.controller.js';
import { CeremoniesController } from './governance/ceremonies.controller.js';
import { PrincipalsController } from './governance/principals.controller.js';
import { SchedulerController } from './governance/scheduler.controller.js';
import { RecipientsController } from './keys/recipients.controller.js';
import { JsonLogger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { OperationsController } from './operations/operations.controller.js';
import { DashboardController } from './operations/dashboard.controller.js';
import { AuditController } from './audit/audit.controller.js';
import { AuditService } from './audit/audit.service.js';
import { AUDIT_SETTINGS, type AuditSettings } from './audit/audit.settings.js';

/** The HTTP edge: controllers, auth, idempotency and problem answers over the application layer. */
@Module({})
export class AppModule {
  static register(ports: EnginePorts, logger: JsonLogger, metrics: Metrics, audit: AuditSettings): DynamicModule {
    return {
      module: AppModule,
      imports: [ApplicationModule.register(ports)],
      controllers: [DashboardController, ApprovalsController, CeremoniesController, PrincipalsController, SchedulerController, KeysController, DataPlaneController, DestructionReportsController, RecipientsController, OperationsController, AuditEventsController, ComplianceController, LineageController, ProjectionsController, AuditController],
      providers: [
        { provide: JsonLogger, useValue: logger },
        { provide: Metrics, useValue: metrics },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: AUDIT_SETTINGS, useValue: audit },
        AuditService,
      ],
    };
  }
}
