import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ProjectionStatusQuery } from '@keyledger/application';
import type { ProjectionStatus } from '@keyledger/read-models';
import { Roles } from '../http/request.js';

/** The projections' positions, lag behind the log, and failures. */
@ApiTags('operations')
@ApiBearerAuth()
@Controller('v1/projections')
export class ProjectionsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @Roles('operator', 'auditor', 'key-admin')
  @ApiOperation({ summary: 'Position, lag, unknown event types and failures of each projection' })
  status(): Promise<{ items: ProjectionStatus[] }> {
    return this.queries.execute(new ProjectionStatusQuery());
  }
}
