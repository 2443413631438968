import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  RewrapCommand,
  type DataKeyAnswer,
  type RequestContext,
} from '@keyledger/application';
import { Validate } from '../http/validation.js';
import { Ctx, Roles } from '../http/request.js';
import { SecretAnswer } from '../http/secret-answer.js';
import { keyIdSchema } from '../keys/schemas.js';
import * as s from './schemas.js';

const KeyId = () => Param('id', new Validate(keyIdSchema, 'query'));
const bodyDoc = (schema: z.ZodType) => ApiBody({ schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as object });

/**
 * The data plane of SPEC §4: data keys, encrypt, decrypt and rewrap. Services (their own tenant
 * only) and key administrators may call it; every use and every refusal is recorded.
 */
@ApiTags('data plane')
@ApiBearerAuth()
@Controller('v1/keys')
export class DataPlaneController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':id/data-keys')
  @HttpCode(200)
  @SecretAnswer()
  @Roles('service', 'key-admin')
  @ApiOperation({ summary: 'A fresh 256-bit data key: plaintext, and sealed under the KEK (ciphertextBlob names KEK and version)' })
  @bodyDoc(s.dataKeySchema)
  dataKey(@KeyId() id: string, @Body(new Validate(s.dataKeySchema)) b: z.infer<typeof s.dataKeySchema>, @Ctx() ctx: RequestContext): Promise<DataKeyAnswer> {
    return this.commands.execute(new GenerateDataKeyCommand(id, b.context, ctx));
  }

  @Post(':id/encrypt')
  @HttpCode(200)
  @SecretAnswer()
  @Roles('service', 'key-admin')
  @ApiOperation({ summary: 'AES-256-GCM of at most 4 KiB under the key; context is bound as associated data' })
  @bodyDoc(s.encryptSchema)
  encrypt(@KeyId() id: string, @Body(new Validate(s.encryptSchema)) b: z.infer<typeof s.encryptSchema>, @Ctx() ctx: RequestContext): Promise<{ ciphertext: string }> {
    return this.commands.execute(new EncryptCommand(id, b.plaintext, b.context, ctx));
  }

  @Post(':id/decrypt')
  @HttpCode(200)
  @SecretAnswer()
  @Roles('service', 'key-admin')
  @ApiOperation({ summary: 'Opens a ciphertext (with its context) or a data-key ciphertextBlob with the version it names' })
  @bodyDoc(s.decryptSchema)
  decrypt(@KeyId() id: string, @Body(new Validate(s.decryptSchema)) b: z.infer<typeof s.decryptSchema>, @Ctx() ctx: RequestContext): Promise<{ plaintext: string }> {
    return this.commands.execute(new DecryptCommand(id, s.sealedInputOf(b), b.context, ctx));
  }

  @Post(':id/rewrap')
  @HttpCode(200)
  @SecretAnswer()
  @Roles('service', 'key-admin')
  @ApiOperation({ summary: 'Re-encrypts a ciphertext or ciphertextBlob under the newest version, without exposing the plaintext' })
  @bodyDoc(s.rewrapSchema)
  rewrap(@KeyId() id: string, @Body(new Validate(s.rewrapSchema)) b: z.infer<typeof s.rewrapSchema>, @Ctx() ctx: RequestContext): Promise<Record<string, string>> {
    return this.commands.execute(new RewrapCommand(id, s.sealedInputOf(b), b.context, ctx));
  }
}
