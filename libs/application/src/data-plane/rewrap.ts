import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { KeyCustodian } from '@keyledger/custody';
import type { RequestContext } from '../shared/context.js';
import { KEY_CUSTODIAN } from '../shared/tokens.js';
import { envelopeFor, kindOfField, type SealedInput } from './decrypt.js';
import { envelopeAad, envelopeHeader, sealEnvelope, type EncryptionContext } from './envelope.js';
import { KeyUses } from './key-uses.js';

export class RewrapCommand {
  constructor(
    readonly keyId: string,
    readonly input: SealedInput,
    readonly context: EncryptionContext | undefined,
    readonly ctx: RequestContext,
  ) {}
}

/**
 * Re-encrypts a ciphertext or data-key blob under the key's newest protecting version, inside
 * the custodian (KMS ReEncrypt; elsewhere the plaintext never leaves the custodian call). It
 * needs the old version to *process* and the new one to *protect*; the same context binds both.
 */
@CommandHandler(RewrapCommand)
export class RewrapHandler implements ICommandHandler<RewrapCommand, Record<string, string>> {
  constructor(
    private readonly uses: KeyUses,
    @Inject(KEY_CUSTODIAN) private readonly custodian: KeyCustodian,
  ) {}

  async execute({ keyId, input, context, ctx }: RewrapCommand): Promise<Record<string, string>> {
    const envelope = envelopeFor(keyId, input);
    const key = await this.uses.load(keyId, ctx, 'rewrap');
    const from = await this.uses.permit(ctx, key, 'rewrap', 'process', envelope.version);
    const to = await this.uses.permit(ctx, key, 'rewrap', 'protect');
    const header = envelopeHeader(kindOfField(input.field), keyId, to.version);
    const sealed = await this.uses.perform(ctx, key, { version: to.version, operation: 'rewrap', fromVersion: from.version }, () =>
      this.custodian.reencrypt(
        envelope.sealed,
        { materialRef: from.materialRef, aad: envelopeAad(envelope.header, context) },
        { materialRef: to.materialRef, aad: envelopeAad(header, context) },
      ),
    );
    return { [input.field]: sealEnvelope(header, sealed).toString('base64') };
  }
}
