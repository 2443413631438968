import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { KeyLineageQuery, type RequestContext } from '@keyledger/application';
import type { KeyLineage } from '@keyledger/read-models';
import { Ctx, Roles } from '../http/request.js';
import { Validate } from '../http/validation.js';
import { keyIdSchema } from '../keys/schemas.js';
import { noQuerySchema } from './read-schemas.js';

/** Where a key sits in the hierarchy, what depends on each of its versions. */
@ApiTags('keys')
@ApiBearerAuth()
@Controller('v1/keys')
export class LineageController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id/lineage')
  @Roles('key-admin', 'auditor', 'operator', 'service')
  @ApiOperation({ summary: 'tenant → DEK → KEK → root, data classes, and re-encryption debt per version' })
  lineage(
    @Param('id', new Validate(keyIdSchema, 'query')) id: string,
    @Query(new Validate(noQuerySchema, 'query')) _q: unknown,
    @Ctx() ctx: RequestContext,
  ): Promise<KeyLineage> {
    return this.queries.execute(new KeyLineageQuery(id, ctx));
  }
}
