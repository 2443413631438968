import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { InvalidParentError } from '@keyledger/domain';
import type { KeyCustodian } from '@keyledger/custody';
import type { RequestContext } from '../shared/context.js';
import { KEY_CUSTODIAN } from '../shared/tokens.js';
import { KeyLifecycle } from './key-lifecycle.js';
import { KeyRepository } from './key-repository.js';
import type { KeyView } from './key-view.js';
import { discardOnFailure } from './material.js';
import { describeParent } from './parent-keys.js';

export class RotateKeyCommand {
  constructor(readonly keyId: string, readonly ctx: RequestContext) {}
}

/** Rotation: new material under the parent's protecting version, then the decider's events. */
@CommandHandler(RotateKeyCommand)
export class RotateKeyHandler implements ICommandHandler<RotateKeyCommand, KeyView> {
  constructor(
    private readonly lifecycle: KeyLifecycle,
    private readonly keys: KeyRepository,
    @Inject(KEY_CUSTODIAN) private readonly custodian: KeyCustodian,
  ) {}

  async execute({ keyId, ctx }: RotateKeyCommand): Promise<KeyView> {
    const loaded = await this.lifecycle.load(keyId, ctx, 'rotate');
    const now = this.lifecycle.now();
    const { key } = loaded;
    const parent = key.parentKeyId ? describeParent((await this.keys.load(key.parentKeyId, ctx, 'rotate')).key, now) : null;
    if (parent && !parent.view.canProtect) {
      throw new InvalidParentError(`Parent key ${key.parentKeyId} has no version that may wrap a new version now`, {
        parentKeyId: key.parentKeyId,
      });
    }
    const version = Math.max(...key.versions.map((v) => v.version)) + 1;
    const material = await this.custodian.generateKey({
      keyId,
      version,
      tenantId: key.tenantId,
      purpose: key.purpose,
      wrappingRef: parent?.wrappingRef ?? null,
    });
    return discardOnFailure(this.custodian, material.materialRef, () =>
      this.lifecycle.decideAndAppend(loaded, ctx, {
        type: 'RotateKey',
        data: { material, parentVersion: parent?.view.version ?? null, now },
      }),
    );
  }
}
