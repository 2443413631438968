import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RevocationReason } from '@keyledger/domain';
import type { RequestContext } from '../shared/context.js';
import { KeyLifecycle } from './key-lifecycle.js';
import type { KeyView } from './key-view.js';

/*
 * The state changes of SPEC §3 that need nothing but the key's own stream: each is a command
 * class and a thin handler around KeyLifecycle; the rules are in the domain's decider.
 */

export class ActivateKeyCommand {
  constructor(readonly keyId: string, readonly version: number | undefined, readonly ctx: RequestContext) {}
}

@CommandHandler(ActivateKeyCommand)
export class ActivateKeyHandler implements ICommandHandler<ActivateKeyCommand, KeyView> {
  constructor(private readonly lifecycle: KeyLifecycle) {}
  execute({ keyId, version, ctx }: ActivateKeyCommand): Promise<KeyView> {
    return this.lifecycle.run(keyId, ctx, 'activate', (_, now) => ({ type: 'ActivateKey', data: { version, now } }));
  }
}

export class SuspendKeyCommand {
  constructor(
    readonly keyId: string,
    readonly version: number | undefined,
    readonly reason: string | null,
    readonly ctx: RequestContext,
  ) {}
}

@CommandHandler(SuspendKeyCommand)
export class SuspendKeyHandler implements ICommandHandler<SuspendKeyCommand, KeyView> {
  constructor(private readonly lifecycle: KeyLifecycle) {}
  execute({ keyId, version, reason, ctx }: SuspendKeyCommand): Promise<KeyView> {
    return this.lifecycle.run(keyId, ctx, 'suspend', (_, now) => ({ type: 'SuspendKey', data: { version, reason, now } }));
  }
}

export class ReactivateKeyCommand {
  constructor(readonly keyId: string, readonly version: number | undefined, readonly ctx: RequestContext) {}
}

@CommandHandler(ReactivateKeyCommand)
export class ReactivateKeyHandler implements ICommandHandler<ReactivateKeyCommand, KeyView> {
  constructor(private readonly lifecycle: KeyLifecycle) {}
  execute({ keyId, version, ctx }: ReactivateKeyCommand): Promise<KeyView> {
    return this.lifecycle.run(keyId, ctx, 'reactivate', (_, now) => ({ type: 'ReactivateKey', data: { version, now } }));
  }
}

export class DeactivateKeyCommand {
  constructor(readonly keyId: string, readonly version: number | undefined, readonly ctx: RequestContext) {}
}

@CommandHandler(DeactivateKeyCommand)
export class DeactivateKeyHandler implements ICommandHandler<DeactivateKeyCommand, KeyView> {
  constructor(private readonly lifecycle: KeyLifecycle) {}
  execute({ keyId, version, ctx }: DeactivateKeyCommand): Promise<KeyView> {
    return this.lifecycle.run(keyId, ctx, 'deactivate', (_, now) => ({ type: 'DeactivateKey', data: { version, now } }));
  }
}

export class RevokeKeyCommand {
  constructor(
    readonly keyId: string,
    readonly version: number | undefined,
    readonly reason: RevocationReason,
    readonly compromisedAt: string | null,
    readonly ctx: RequestContext,
  ) {}
}

@CommandHandler(RevokeKeyCommand)
export class RevokeKeyHandler implements ICommandHandler<RevokeKeyCommand, KeyView> {
  constructor(private readonly lifecycle: KeyLifecycle) {}
  execute({ keyId, version, reason, compromisedAt, ctx }: RevokeKeyCommand): Promise<KeyView> {
    return this.lifecycle.run(keyId, ctx, 'revoke', (_, now) => ({
      type: 'RevokeKey',
      data: { version, reason, compromisedAt, now },
    }));
  }
}

export class CancelDestructionCommand {
  constructor(readonly keyId: string, readonly version: number | undefined, readonly ctx: RequestContext) {}
}

@CommandHandler(CancelDestructionCommand)
export class CancelDestructionHandler implements ICommandHandler<CancelDestructionCommand, KeyView> {
  constructor(private readonly lifecycle: KeyLifecycle) {}
  execute({ keyId, version, ctx }: CancelDestructionCommand): Promise<KeyView> {
    return this.lifecycle.run(keyId, ctx, 'cancel-destruction', (_, now) => ({
      type: 'CancelKeyDestruction',
      data: { version, now },
    }));
  }
}
