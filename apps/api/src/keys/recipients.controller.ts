import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Recipients, canSeeTenant, type Recipient, type RequestContext } from '@keyledger/application';
import { KeyNotFoundError } from '@keyledger/domain';
import { Validate } from '../http/validation.js';
import { Ctx, Roles } from '../http/request.js';
import { registerRecipientSchema } from './schemas.js';

/** Recipients of distributed keys: a name, a tenant and an RSA transport public key. */
@ApiTags('recipients')
@ApiBearerAuth()
@Controller('v1/recipients')
export class RecipientsController {
  constructor(private readonly recipients: Recipients) {}

  @Post()
  @Roles('key-admin', 'service')
  @ApiBody({ schema: z.toJSONSchema(registerRecipientSchema) as object })
  register(@Body(new Validate(registerRecipientSchema)) body: z.infer<typeof registerRecipientSchema>, @Ctx() ctx: RequestContext): Promise<Recipient> {
    // A service may register recipients of its own tenant only; naming another is not disclosed.
    if (!canSeeTenant(ctx.actor, body.tenantId)) throw new KeyNotFoundError(`tenant:${body.tenantId}`);
    return this.recipients.register(body, ctx);
  }

  @Get()
  @Roles('key-admin', 'auditor', 'operator', 'service')
  async list(@Ctx() ctx: RequestContext): Promise<{ items: Recipient[]; nextCursor: null }> {
    return { items: await this.recipients.list(ctx), nextCursor: null };
  }
}
