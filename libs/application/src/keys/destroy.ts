import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { assertCanDestroy } from '@keyledger/domain';
import type { KeyCustodian } from '@keyledger/custody';
import type { RequestContext } from '../shared/context.js';
import { KEY_CUSTODIAN } from '../shared/tokens.js';
import { KeyLifecycle } from './key-lifecycle.js';
import type { KeyView } from './key-view.js';

export class DestroyKeyCommand {
  constructor(readonly keyId: string, readonly version: number | undefined, readonly ctx: RequestContext) {}
}

/**
 * Destruction is real: the decider first checks that the version may go (waiting period over,
 * not active), then the custodian erases the material and verifies its absence, and the event
 * records that evidence. A failed append after erasure is safe to retry: erasure is idempotent.
 */
@CommandHandler(DestroyKeyCommand)
export class DestroyKeyHandler implements ICommandHandler<DestroyKeyCommand, KeyView> {
  constructor(
    private readonly lifecycle: KeyLifecycle,
    @Inject(KEY_CUSTODIAN) private readonly custodian: KeyCustodian,
  ) {}

  async execute({ keyId, version, ctx }: DestroyKeyCommand): Promise<KeyView> {
    const loaded = await this.lifecycle.load(keyId, ctx, 'destroy');
    const now = this.lifecycle.now();
    const target = assertCanDestroy({ status: 'present', key: loaded.key }, version, now);
    const evidence = await this.custodian.destroy(target.materialRef);
    return this.lifecycle.decideAndAppend(loaded, ctx, {
      type: 'DestroyKey',
      data: { version: target.version, evidence: { ...evidence, destroyedAt: this.lifecycle.now() }, now },
    });
  }
}
