import { Inject, Injectable } from '@nestjs/common';
import { decideKey, type KeyCommand, type LifecycleCommandName } from '@keyledger/domain';
import { assertDualControl } from '../governance/dual-control.js';
import type { RequestContext } from '../shared/context.js';
import { PreconditionFailedError } from '../shared/errors.js';
import { CLOCK, type Clock } from '../shared/tokens.js';
import { KeyRepository, type LoadedKey } from './key-repository.js';
import { toKeyView, type KeyView } from './key-view.js';

/**
 * The one shape of every lifecycle command: read the stream, fold, decide, append with the
 * revision just read (or the caller's `If-Match`). A concurrent writer makes the append fail
 * with ConcurrencyError; nothing is retried silently.
 */
@Injectable()
export class KeyLifecycle {
  constructor(
    private readonly keys: KeyRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  now(): string {
    return this.clock.now().toISOString();
  }

  async load(keyId: string, ctx: RequestContext, operation: LifecycleCommandName | string): Promise<LoadedKey> {
    const loaded = await this.keys.load(keyId, ctx, operation);
    assertDualControl(loaded.key.purpose, operation, ctx);
    if (ctx.expectedRevision !== null && ctx.expectedRevision !== loaded.revision) {
      throw new PreconditionFailedError(keyId, ctx.expectedRevision, loaded.revision);
    }
    return loaded;
  }

  async run(
    keyId: string,
    ctx: RequestContext,
    operation: LifecycleCommandName,
    command: (loaded: LoadedKey, now: string) => KeyCommand | Promise<KeyCommand>,
  ): Promise<KeyView> {
    const loaded = await this.load(keyId, ctx, operation);
    return this.decideAndAppend(loaded, ctx, await command(loaded, this.now()));
  }

  async decideAndAppend(loaded: LoadedKey, ctx: RequestContext, command: KeyCommand): Promise<KeyView> {
    const before = { status: 'present', key: loaded.key } as const;
    const events = decideKey(command, before);
    const after = await this.keys.append(loaded.key.keyId, events, loaded.revision, ctx, loaded.key.tenantId, before);
    return toKeyView(after.key, after.revision);
  }
}
