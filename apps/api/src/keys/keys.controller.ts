import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  ActivateKeyCommand,
  CancelDestructionCommand,
  DeactivateKeyCommand,
  DestroyKeyCommand,
  DistributeKeyCommand,
  GenerateKeyCommand,
  GetKeyQuery,
  KeyHistoryQuery,
  ListKeysQuery,
  ReactivateKeyCommand,
  RevokeKeyCommand,
  RotateKeyCommand,
  ScheduleDestructionCommand,
  SuspendKeyCommand,
  UpdateKeyMetadataCommand,
  type Distribution,
  type KeyView,
  type Page,
  type RequestContext,
} from '@keyledger/application';
import { Validate } from '../http/validation.js';
import { Ctx, Roles } from '../http/request.js';
import * as s from './schemas.js';

const KeyId = () => Param('id', new Validate(s.keyIdSchema, 'query'));
const bodyDoc = (schema: z.ZodType) => ApiBody({ schema: z.toJSONSchema(schema, { io: 'input' }) as object });
const instantOf = (at: string | undefined): Date | undefined => (at === undefined ? undefined : new Date(at));

/** Keys: generation, every lifecycle stage of SPEC §3, distribution, and the reads. */
@ApiTags('keys')
@ApiBearerAuth()
@Controller('v1/keys')
export class KeysController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @Roles('key-admin')
  @ApiOperation({ summary: 'Generate a key (version 1, pre-activation)' })
  @bodyDoc(s.generateKeySchema)
  generate(@Body(new Validate(s.generateKeySchema)) body: z.infer<typeof s.generateKeySchema>, @Ctx() ctx: RequestContext): Promise<KeyView> {
    return this.commands.execute(new GenerateKeyCommand(body, ctx));
  }

  @Get()
  @Roles('key-admin', 'auditor', 'operator', 'service')
  @ApiOperation({ summary: 'The key inventory, filtered and paged; ?at= gives it as of an instant' })
  list(@Query(new Validate(s.listKeysQuerySchema, 'query')) q: z.infer<typeof s.listKeysQuerySchema>, @Ctx() ctx: RequestContext): Promise<Page<KeyView>> {
    const { at, ...filter } = q;
    return this.queries.execute(new ListKeysQuery(ctx.actor, { ...filter, at: instantOf(at) }));
  }

  @Get(':id')
  @Roles('key-admin', 'auditor', 'operator', 'service')
  @ApiOperation({ summary: 'One key; ?at= gives it as of an instant' })
  get(@KeyId() id: string, @Query(new Validate(s.atQuerySchema, 'query')) q: z.infer<typeof s.atQuerySchema>, @Ctx() ctx: RequestContext): Promise<KeyView> {
    return this.queries.execute(new GetKeyQuery(id, ctx, instantOf(q.at)));
  }

  @Get(':id/history')
  @Roles('key-admin', 'auditor', 'operator', 'service')
  @ApiOperation({ summary: "The key's events (lifecycle and uses) in global order" })
  history(@KeyId() id: string, @Query(new Validate(s.atQuerySchema, 'query')) q: z.infer<typeof s.atQuerySchema>, @Ctx() ctx: RequestContext) {
    return this.queries.execute(new KeyHistoryQuery(id, ctx, instantOf(q.at)));
  }

  @Patch(':id')
  @Roles('key-admin')
  @ApiOperation({ summary: 'Change data classifications and vendor integrations (recorded as an event)' })
  @bodyDoc(s.updateMetadataSchema)
  updateMetadata(@KeyId() id: string, @Body(new Validate(s.updateMetadataSchema)) b: z.infer<typeof s.updateMetadataSchema>, @Ctx() ctx: RequestContext): Promise<KeyView> {
    return this.commands.execute(new UpdateKeyMetadataCommand(id, b, ctx));
  }

  @Post(':id/activate')
  @HttpCode(200)
  @Roles('key-admin')
  @bodyDoc(s.versionedSchema)
  activate(@KeyId() id: string, @Body(new Validate(s.versionedSchema)) b: z.infer<typeof s.versionedSchema>, @Ctx() ctx: RequestContext): Promise<KeyView> {
    return this.commands.execute(new ActivateKeyCommand(id, b.version, ctx));
  }

  @Post(':id/rotate')
  @HttpCode(200)
  @Roles('key-admin')
  @bodyDoc(s.rotateSchema)
  rotate(@KeyId() id: string, @Body(new Validate(s.rotateSchema)) _b: unknown, @Ctx() ctx: RequestContext): Promise<KeyView> {
    return this.commands.execute(new RotateKeyCommand(id, ctx));
  }

  @Post(':id/suspend')
  @HttpCode(200)
  @Roles('key-admin')
  @bodyDoc(s.suspendSchema)
  suspend(@KeyId() id: string, @Body(new Validate(s.suspendSchema)) b: z.infer<typeof s.suspendSchema>, @Ctx() ctx: RequestContext): Promise<KeyView> {
    return this.commands.execute(new SuspendKeyCommand(id, b.version, b.reason ?? null, ctx));
  }

  @Post(':id/reactivate')
  @HttpCode(200)
  @Roles('key-admin')
  @bodyDoc(s.versionedSchema)
  reactivate(@KeyId() id: string, @Body(new Validate(s.versionedSchema)) b: z.infer<typeof s.versionedSchema>, @Ctx() ctx: RequestContext): Promise<KeyView> {
    return this.commands.execute(new ReactivateKeyCommand(id, b.version, ctx));
  }

  @Post(':id/deactivate')
  @HttpCode(200)
  @Roles('key-admin')
  @bodyDoc(s.versionedSchema)
  deactivate(@KeyId() id: string, @Body(new Validate(s.versionedSchema)) b: z.infer<typeof s.versionedSchema>, @Ctx() ctx: RequestContext): Promise<KeyView> {
    return this.commands.execute(new DeactivateKeyCommand(id, b.version, ctx));
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Roles('key-admin')
  @bodyDoc(s.revokeSchema)
  revoke(@KeyId() id: string, @Body(new Validate(s.revokeSchema)) b: z.infer<typeof s.revokeSchema>, @Ctx() ctx: RequestContext): Promise<KeyView> {
    return this.commands.execute(new RevokeKeyCommand(id, b.version, b.reason, b.compromisedAt ?? null, ctx));
  }

  @Post(':id/schedule-destruction')
  @HttpCode(200)
  @Roles('key-admin')
  @bodyDoc(s.scheduleDestructionSchema)
  scheduleDestruction(
    @KeyId() id: string,
    @Body(new Validate(s.scheduleDestructionSchema)) b: z.infer<typeof s.scheduleDestructionSchema>,
    @Ctx() ctx: RequestContext,
  ): Promise<KeyView> {
    return this.commands.execute(new ScheduleDestructionCommand(id, b.version, b.waitingPeriodDays, ctx));
  }

  @Post(':id/cancel-destruction')
  @HttpCode(200)
  @Roles('key-admin')
  @bodyDoc(s.versionedSchema)
  cancelDestruction(@KeyId() id: string, @Body(new Validate(s.versionedSchema)) b: z.infer<typeof s.versionedSchema>, @Ctx() ctx: RequestContext): Promise<KeyView> {
    return this.commands.execute(new CancelDestructionCommand(id, b.version, ctx));
  }

  @Post(':id/destroy')
  @HttpCode(200)
  @Roles('key-admin')
  @bodyDoc(s.versionedSchema)
  destroy(@KeyId() id: string, @Body(new Validate(s.versionedSchema)) b: z.infer<typeof s.versionedSchema>, @Ctx() ctx: RequestContext): Promise<KeyView> {
    return this.commands.execute(new DestroyKeyCommand(id, b.version, ctx));
  }

  @Post(':id/distribute')
  @HttpCode(200)
  @Roles('key-admin', 'service')
  @ApiOperation({ summary: "Hand the key's material to a registered recipient, wrapped under its RSA key" })
  @bodyDoc(s.distributeSchema)
  distribute(@KeyId() id: string, @Body(new Validate(s.distributeSchema)) b: z.infer<typeof s.distributeSchema>, @Ctx() ctx: RequestContext): Promise<Distribution> {
    return this.commands.execute(new DistributeKeyCommand(id, b.recipientId, b.version, ctx));
  }
}
