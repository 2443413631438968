import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { complianceReport, reportOf, type ComplianceReport, type RuleId } from '@keyledger/read-models';
import type { Actor } from '../shared/context.js';
import { CLOCK, type Clock } from '../shared/tokens.js';
import { ReadSideService } from './read-side.service.js';
import { visibleTenant } from './tenant-scope.js';

export class ComplianceQuery {
  constructor(readonly actor: Actor, readonly filter: { tenantId?: string; rule?: RuleId; limit?: number }) {}
}

/** Findings and their summary, evaluated now over the caught-up read models. */
@QueryHandler(ComplianceQuery)
export class ComplianceHandler implements IQueryHandler<ComplianceQuery, ComplianceReport> {
  constructor(
    private readonly readSide: ReadSideService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ actor, filter }: ComplianceQuery): Promise<ComplianceReport> {
    const now = this.clock.now().toISOString();
    const { tenantId: _requested, ...rest } = filter;
    const scope = visibleTenant(actor, filter.tenantId);
    if (scope === null) return reportOf(now, [], rest);
    await this.readSide.caughtUp(['inventory', 'audit', 'compliance']);
    return complianceReport(this.readSide.storage, now, { ...rest, ...(scope.tenantId === undefined ? {} : { tenantId: scope.tenantId }) });
  }
}
