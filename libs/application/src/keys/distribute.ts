import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { UsageNotAllowedError, checkUsage } from '@keyledger/domain';
import type { KeyCustodian } from '@keyledger/custody';
import { Recipients } from '../recipients/recipients.js';
import type { RequestContext } from '../shared/context.js';
import { RecipientTenantMismatchError } from '../shared/errors.js';
import { CLOCK, KEY_CUSTODIAN, type Clock } from '../shared/tokens.js';
import { KeyRepository } from './key-repository.js';
import { UsageLog } from './usage-log.js';

export class DistributeKeyCommand {
  constructor(
    readonly keyId: string,
    readonly recipientId: string,
    readonly version: number | undefined,
    readonly ctx: RequestContext,
  ) {}
}

export interface Distribution {
  keyId: string;
  version: number;
  recipientId: string;
  algorithm: 'RSA-OAEP-256';
  /** Base64 of the key material encrypted under the recipient's RSA public key. */
  wrappedKey: string;
}

/**
 * Distribution hands material to a registered recipient of the key's tenant, wrapped under the
 * recipient's RSA key. It is a *protect* use: only an active version inside its OUP may go out.
 */
@CommandHandler(DistributeKeyCommand)
export class DistributeKeyHandler implements ICommandHandler<DistributeKeyCommand, Distribution> {
  constructor(
    private readonly keys: KeyRepository,
    private readonly recipients: Recipients,
    private readonly usage: UsageLog,
    @Inject(KEY_CUSTODIAN) private readonly custodian: KeyCustodian,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ keyId, recipientId, version, ctx }: DistributeKeyCommand): Promise<Distribution> {
    const { key } = await this.keys.load(keyId, ctx, 'distribute');
    const recipient = await this.recipients.get(recipientId, ctx);
    if (recipient.tenantId !== key.tenantId) throw new RecipientTenantMismatchError(recipientId, keyId);
    let allowed;
    try {
      allowed = checkUsage(key, 'protect', this.clock.now().toISOString(), version);
    } catch (error) {
      if (error instanceof UsageNotAllowedError) {
        await this.usage.denied(ctx, key.tenantId, {
          keyId,
          version: version ?? key.currentVersion,
          operation: 'distribute',
          code: error.code,
          reason: error.message,
        });
      }
      throw error;
    }
    const wrapped = await this.custodian.wrapForRecipient(allowed.materialRef, recipient.publicKeyPem);
    await this.usage.used(ctx, key.tenantId, { keyId, version: allowed.version, operation: 'distribute', recipientId });
    return { keyId, version: allowed.version, recipientId, algorithm: 'RSA-OAEP-256', wrappedKey: wrapped.toString('base64') };
  }
}
