import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import {
  DestructionCertificateQuery,
  DestructionImpactQuery,
  type DestructionCertificate,
  type DestructionImpact,
  type RequestContext,
} from '@keyledger/application';
import { Validate } from '../http/validation.js';
import { Ctx, Roles } from '../http/request.js';
import { keyIdSchema } from '../keys/schemas.js';
import { versionQuerySchema } from './schemas.js';

const KeyId = () => Param('id', new Validate(keyIdSchema, 'query'));
const VersionQuery = () => Query(new Validate(versionQuerySchema, 'query'));

/** SPEC §7: what a destruction makes unreadable (before), and the certificate that proves it (after). */
@ApiTags('keys')
@ApiBearerAuth()
@Controller('v1/keys')
export class DestructionReportsController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id/destruction-impact')
  @Roles('key-admin', 'custodian', 'auditor')
  @ApiOperation({ summary: 'Which DEKs, tenants and data classes become unreadable if this version (?version=N, default current) is destroyed' })
  impact(@KeyId() id: string, @VersionQuery() q: z.infer<typeof versionQuerySchema>, @Ctx() ctx: RequestContext): Promise<DestructionImpact> {
    return this.queries.execute(new DestructionImpactQuery(id, q.version, ctx));
  }

  @Get(':id/destruction-certificate')
  @Roles('key-admin', 'custodian', 'auditor')
  @ApiOperation({ summary: "A destroyed version's certificate (?version=N, default the last destroyed): custodian evidence, approvals, impact" })
  certificate(@KeyId() id: string, @VersionQuery() q: z.infer<typeof versionQuerySchema>, @Ctx() ctx: RequestContext): Promise<DestructionCertificate> {
    return this.queries.execute(new DestructionCertificateQuery(id, q.version, ctx));
  }
}
