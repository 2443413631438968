import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { KeyCustodian } from '@keyledger/custody';
import type { RequestContext } from '../shared/context.js';
import { KEY_CUSTODIAN } from '../shared/tokens.js';
import { envelopeAad, envelopeHeader, sealEnvelope, type EncryptionContext } from './envelope.js';
import { KeyUses } from './key-uses.js';

export class GenerateDataKeyCommand {
  constructor(readonly kekId: string, readonly context: EncryptionContext | undefined, readonly ctx: RequestContext) {}
}

/** SPEC §8 wire names. `plaintext` and `ciphertextBlob` are base64. */
export interface DataKeyAnswer {
  keyId: string;
  version: number;
  plaintext: string;
  ciphertextBlob: string;
}

/**
 * GenerateDataKey: a fresh 256-bit key for the caller's own envelope encryption, in plaintext
 * and sealed under the KEK's protecting version (a *protect* use, inside its OUP).
 */
@CommandHandler(GenerateDataKeyCommand)
export class GenerateDataKeyHandler implements ICommandHandler<GenerateDataKeyCommand, DataKeyAnswer> {
  constructor(
    private readonly uses: KeyUses,
    @Inject(KEY_CUSTODIAN) private readonly custodian: KeyCustodian,
  ) {}

  async execute({ kekId, context, ctx }: GenerateDataKeyCommand): Promise<DataKeyAnswer> {
    const key = await this.uses.load(kekId, ctx, 'generate-data-key');
    const version = await this.uses.permit(ctx, key, 'generate-data-key', 'protect');
    const header = envelopeHeader('data-key', kekId, version.version);
    const dataKey = await this.uses.perform(
      ctx,
      key,
      { version: version.version, operation: 'generate-data-key' },
      () => this.custodian.generateDataKey(version.materialRef, envelopeAad(header, context)),
      (unsent) => unsent.plaintext.fill(0),
    );
    try {
      return {
        keyId: kekId,
        version: version.version,
        plaintext: dataKey.plaintext.toString('base64'),
        ciphertextBlob: sealEnvelope(header, dataKey.sealed).toString('base64'),
      };
    } finally {
      dataKey.plaintext.fill(0);
    }
  }
}
