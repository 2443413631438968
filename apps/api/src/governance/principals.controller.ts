import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Principals, ROLES, type PrincipalView, type RequestContext } from '@keyledger/application';
import { Ctx, Roles } from '../http/request.js';
import { Validate } from '../http/validation.js';
import { approvalIdSchema, emptySchema } from './schemas.js';

const addPrincipalSchema = z
  .strictObject({
    name: z.string().min(1).max(200),
    roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length),
    tenantId: z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/).optional(),
  })
  .refine((p) => !p.roles.includes('service') || p.tenantId !== undefined, { message: 'a service principal needs a tenantId', path: ['tenantId'] });

const PrincipalId = () => Param('id', new Validate(approvalIdSchema, 'query'));

/** Principals for operators: add, list, revoke, and rotate tokens. Tokens are shown once. */
@ApiTags('governance')
@ApiBearerAuth()
@Controller('v1/principals')
export class PrincipalsController {
  constructor(private readonly principals: Principals) {}

  @Post()
  @Roles('operator')
  @ApiBody({ schema: z.toJSONSchema(addPrincipalSchema) as object })
  add(@Body(new Validate(addPrincipalSchema)) b: z.infer<typeof addPrincipalSchema>, @Ctx() ctx: RequestContext): Promise<{ principal: PrincipalView; token: string }> {
    return this.principals.add({ name: b.name, roles: b.roles, tenantId: b.tenantId ?? null }, ctx);
  }

  @Get()
  @Roles('operator', 'auditor')
  async list(): Promise<{ items: PrincipalView[]; nextCursor: null }> {
    return { items: await this.principals.list(), nextCursor: null };
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Roles('operator')
  revoke(@PrincipalId() id: string, @Body(new Validate(emptySchema)) _b: unknown, @Ctx() ctx: RequestContext): Promise<PrincipalView> {
    return this.principals.revoke(id, ctx);
  }

  @Post(':id/rotate-token')
  @HttpCode(200)
  @Roles('operator')
  rotateToken(@PrincipalId() id: string, @Body(new Validate(emptySchema)) _b: unknown, @Ctx() ctx: RequestContext) {
    return this.principals.rotateToken(id, ctx);
  }
}
