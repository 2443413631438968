import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ComplianceQuery, type RequestContext } from '@keyledger/application';
import type { ComplianceReport } from '@keyledger/read-models';
import { Ctx, Roles } from '../http/request.js';
import { Validate } from '../http/validation.js';
import { complianceQuerySchema } from './read-schemas.js';

/** Compliance findings (rule, regulation reference, evidence events) and their summary. */
@ApiTags('compliance')
@ApiBearerAuth()
@Controller('v1/compliance')
export class ComplianceController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @Roles('auditor', 'key-admin', 'operator', 'service')
  @ApiOperation({
    summary: 'Compliance findings with their rule, references and evidence; summary per tenant and overall',
    description:
      'Filters: tenantId, rule; limit (default 1000) caps the findings listed, most severe first, while the summary counts them all ' +
      '(truncated says when some were left out). Time-dependent rules (rotation overdue, annual root ceremony) are evaluated at the time of the request.',
  })
  report(@Query(new Validate(complianceQuerySchema, 'query')) q: z.infer<typeof complianceQuerySchema>, @Ctx() ctx: RequestContext): Promise<ComplianceReport> {
    return this.queries.execute(new ComplianceQuery(ctx.actor, q));
  }
}
