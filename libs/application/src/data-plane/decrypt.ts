import { Buffer } from 'node:buffer';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { InvalidInputError } from '@keyledger/domain';
import type { KeyCustodian } from '@keyledger/custody';
import type { RequestContext } from '../shared/context.js';
import { KEY_CUSTODIAN } from '../shared/tokens.js';
import { envelopeAad, openEnvelope, type EncryptionContext, type Envelope, type EnvelopeKind } from './envelope.js';
import { KeyUses } from './key-uses.js';

/** What a decrypt call carries: a payload `ciphertext`, or a data key's `ciphertextBlob`. */
export type SealedInput = { readonly field: 'ciphertext' | 'ciphertextBlob'; readonly bytes: Buffer };

export class DecryptCommand {
  constructor(
    readonly keyId: string,
    readonly input: SealedInput,
    readonly context: EncryptionContext | undefined,
    readonly ctx: RequestContext,
  ) {}
}

export const kindOfField = (field: SealedInput['field']): EnvelopeKind => (field === 'ciphertext' ? 'ciphertext' : 'data-key');

/**
 * Opens the envelope with the version it names (a *process* use: active or deactivated, inside
 * its RUP). A data-key blob is recorded as `unwrap`, a payload as `decrypt`. The envelope must
 * name the key of the route: a ciphertext of another key is refused before any key is used.
 */
export function envelopeFor(keyId: string, input: SealedInput): Envelope {
  const envelope = openEnvelope(input.bytes, kindOfField(input.field), input.field);
  if (envelope.keyId !== keyId) {
    throw new InvalidInputError(`${input.field} was made with key ${envelope.keyId}, not ${keyId}`, { field: input.field });
  }
  return envelope;
}

@CommandHandler(DecryptCommand)
export class DecryptHandler implements ICommandHandler<DecryptCommand, { plaintext: string }> {
  constructor(
    private readonly uses: KeyUses,
    @Inject(KEY_CUSTODIAN) private readonly custodian: KeyCustodian,
  ) {}

  async execute({ keyId, input, context, ctx }: DecryptCommand): Promise<{ plaintext: string }> {
    const envelope = envelopeFor(keyId, input);
    const operation = input.field === 'ciphertext' ? 'decrypt' : 'unwrap';
    const key = await this.uses.load(keyId, ctx, operation);
    const version = await this.uses.permit(ctx, key, operation, 'process', envelope.version);
    const plaintext = await this.uses.perform(
      ctx,
      key,
      { version: version.version, operation },
      () => this.custodian.decrypt(version.materialRef, envelope.sealed, envelopeAad(envelope.header, context)),
      (unsent) => unsent.fill(0),
    );
    try {
      return { plaintext: plaintext.toString('base64') };
    } finally {
      plaintext.fill(0);
    }
  }
}
