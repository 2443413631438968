import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { DataClassification, VendorIntegration } from '@keyledger/domain';
import type { RequestContext } from '../shared/context.js';
import { KeyLifecycle } from './key-lifecycle.js';
import type { KeyView } from './key-view.js';

export class UpdateKeyMetadataCommand {
  constructor(
    readonly keyId: string,
    readonly changes: { classifications?: DataClassification[]; vendors?: VendorIntegration[] },
    readonly ctx: RequestContext,
  ) {}
}

/** Key administrators keep data classes and vendor integrations true; each change is an event. */
@CommandHandler(UpdateKeyMetadataCommand)
export class UpdateKeyMetadataHandler implements ICommandHandler<UpdateKeyMetadataCommand, KeyView> {
  constructor(private readonly lifecycle: KeyLifecycle) {}
  execute({ keyId, changes, ctx }: UpdateKeyMetadataCommand): Promise<KeyView> {
    return this.lifecycle.run(keyId, ctx, 'update-metadata', (_, now) => ({ type: 'UpdateKeyMetadata', data: { ...changes, now } }));
  }
}
