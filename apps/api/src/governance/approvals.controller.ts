import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Approvals, type ApprovalView, type RequestContext } from '@keyledger/application';
import { Ctx, Roles } from '../http/request.js';
import { Validate } from '../http/validation.js';
import { generateKeySchema, revokeSchema, scheduleDestructionSchema } from '../keys/schemas.js';
import * as s from './schemas.js';

/** The parameters each operation takes, validated when the request is made, not when it runs. */
const paramsOf = (operation: z.infer<typeof s.requestApprovalSchema>['operation'], params: Record<string, unknown>): Record<string, unknown> => {
  switch (operation) {
    case 'generate':
      return new Validate(generateKeySchema).transform(params);
    case 'revoke':
      return new Validate(revokeSchema.omit({ version: true })).transform(params);
    case 'schedule-destruction':
      return new Validate(scheduleDestructionSchema.omit({ version: true })).transform(params);
    default:
      return new Validate(s.emptySchema).transform(params);
  }
};

/** Dual control: a custodian quorum, none of them the requester, executes protected operations. */
@ApiTags('governance')
@ApiBearerAuth()
@Controller('v1/approvals')
export class ApprovalsController {
  constructor(private readonly approvals: Approvals) {}

  @Post()
  @Roles('key-admin')
  @ApiOperation({ summary: 'Request a protected operation (root-key operations, a KEK destruction schedule)' })
  @ApiBody({ schema: z.toJSONSchema(s.requestApprovalSchema) as object })
  request(@Body(new Validate(s.requestApprovalSchema)) body: z.infer<typeof s.requestApprovalSchema>, @Ctx() ctx: RequestContext): Promise<ApprovalView> {
    const params = paramsOf(body.operation, body.params ?? {});
    return this.approvals.request({ operation: body.operation, keyId: body.keyId ?? null, version: body.version ?? null, params }, ctx);
  }

  @Get()
  @Roles('key-admin', 'custodian', 'auditor')
  async list(): Promise<{ items: ApprovalView[]; nextCursor: null }> {
    return { items: await this.approvals.list(), nextCursor: null };
  }

  @Get(':id')
  @Roles('key-admin', 'custodian', 'auditor')
  get(@Param('id', new Validate(s.approvalIdSchema, 'query')) id: string): Promise<ApprovalView> {
    return this.approvals.get(id);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Roles('custodian')
  @ApiOperation({ summary: 'Approve; the approval that reaches quorum executes the operation and answers with its result' })
  approve(@Param('id', new Validate(s.approvalIdSchema, 'query')) id: string, @Body(new Validate(s.emptySchema)) _b: unknown, @Ctx() ctx: RequestContext) {
    return this.approvals.approve(id, ctx);
  }

  @Post(':id/deny')
  @HttpCode(200)
  @Roles('custodian')
  deny(@Param('id', new Validate(s.approvalIdSchema, 'query')) id: string, @Body(new Validate(s.denySchema)) b: z.infer<typeof s.denySchema>, @Ctx() ctx: RequestContext) {
    return this.approvals.deny(id, b.reason ?? null, ctx);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('key-admin')
  cancel(@Param('id', new Validate(s.approvalIdSchema, 'query')) id: string, @Body(new Validate(s.emptySchema)) _b: unknown, @Ctx() ctx: RequestContext) {
    return this.approvals.cancel(id, ctx);
  }
}
