import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Ceremonies, type CeremonyView, type RequestContext } from '@keyledger/application';
import { Ctx, Roles } from '../http/request.js';
import { Validate } from '../http/validation.js';
import * as s from './schemas.js';

const CeremonyId = () => Param('id', new Validate(s.approvalIdSchema, 'query'));

/** Witnessed key ceremonies: steps, Ed25519 attestations over the transcript hash, close. */
@ApiTags('governance')
@ApiBearerAuth()
@Controller('v1/ceremonies')
export class CeremoniesController {
  constructor(private readonly ceremonies: Ceremonies) {}

  @Post()
  @Roles('key-admin', 'custodian')
  @ApiBody({ schema: z.toJSONSchema(s.openCeremonySchema) as object })
  open(@Body(new Validate(s.openCeremonySchema)) b: z.infer<typeof s.openCeremonySchema>, @Ctx() ctx: RequestContext): Promise<CeremonyView> {
    return this.ceremonies.open({ purpose: b.purpose, keyId: b.keyId ?? null, witnesses: b.witnesses }, ctx);
  }

  @Get(':id')
  @Roles('key-admin', 'custodian', 'auditor')
  get(@CeremonyId() id: string): Promise<CeremonyView> {
    return this.ceremonies.get(id);
  }

  @Post(':id/steps')
  @Roles('key-admin', 'custodian')
  @ApiBody({ schema: z.toJSONSchema(s.stepSchema) as object })
  step(@CeremonyId() id: string, @Body(new Validate(s.stepSchema)) b: z.infer<typeof s.stepSchema>, @Ctx() ctx: RequestContext): Promise<CeremonyView> {
    return this.ceremonies.recordStep(id, b.description, ctx, b.approvalId);
  }

  @Post(':id/attestations')
  @Roles('key-admin', 'custodian')
  @ApiBody({ schema: z.toJSONSchema(s.attestationSchema) as object })
  attest(@CeremonyId() id: string, @Body(new Validate(s.attestationSchema)) b: z.infer<typeof s.attestationSchema>, @Ctx() ctx: RequestContext): Promise<CeremonyView> {
    return this.ceremonies.attest(id, b.witness, b.signature, ctx);
  }

  @Post(':id/close')
  @HttpCode(200)
  @Roles('key-admin', 'custodian')
  close(@CeremonyId() id: string, @Body(new Validate(s.emptySchema)) _b: unknown, @Ctx() ctx: RequestContext): Promise<CeremonyView> {
    return this.ceremonies.close(id, ctx);
  }
}
