import { Buffer } from 'node:buffer';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { KeyCustodian } from '@keyledger/custody';
import type { RequestContext } from '../shared/context.js';
import { KEY_CUSTODIAN } from '../shared/tokens.js';
import { envelopeAad, envelopeHeader, sealEnvelope, type EncryptionContext } from './envelope.js';
import { KeyUses } from './key-uses.js';

export class EncryptCommand {
  constructor(
    readonly keyId: string,
    /** At most 4 KiB (checked at the edge). */
    readonly plaintext: Buffer,
    readonly context: EncryptionContext | undefined,
    readonly ctx: RequestContext,
  ) {}
}

/** AES-256-GCM under the key's protecting version; the ciphertext names key and version. */
@CommandHandler(EncryptCommand)
export class EncryptHandler implements ICommandHandler<EncryptCommand, { ciphertext: string }> {
  constructor(
    private readonly uses: KeyUses,
    @Inject(KEY_CUSTODIAN) private readonly custodian: KeyCustodian,
  ) {}

  async execute({ keyId, plaintext, context, ctx }: EncryptCommand): Promise<{ ciphertext: string }> {
    try {
      const key = await this.uses.load(keyId, ctx, 'encrypt');
      const version = await this.uses.permit(ctx, key, 'encrypt', 'protect');
      const header = envelopeHeader('ciphertext', keyId, version.version);
      const sealed = await this.uses.perform(ctx, key, { version: version.version, operation: 'encrypt' }, () =>
        this.custodian.encrypt(version.materialRef, plaintext, envelopeAad(header, context)),
      );
      return { ciphertext: sealEnvelope(header, sealed).toString('base64') };
    } finally {
      plaintext.fill(0);
    }
  }
}
