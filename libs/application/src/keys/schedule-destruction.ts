import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DESTRUCTION_WAIT_DEFAULT_DAYS } from '@keyledger/domain';
import type { RequestContext } from '../shared/context.js';
import { ENGINE_SETTINGS, type EngineSettings } from '../shared/tokens.js';
import { KeyLifecycle } from './key-lifecycle.js';
import type { KeyView } from './key-view.js';

export class ScheduleDestructionCommand {
  constructor(
    readonly keyId: string,
    readonly version: number | undefined,
    readonly waitingPeriodDays: number | undefined,
    readonly ctx: RequestContext,
  ) {}
}

/** The minimum waiting period in force is the operator's setting, recorded in the event. */
@CommandHandler(ScheduleDestructionCommand)
export class ScheduleDestructionHandler implements ICommandHandler<ScheduleDestructionCommand, KeyView> {
  constructor(
    private readonly lifecycle: KeyLifecycle,
    @Inject(ENGINE_SETTINGS) private readonly settings: EngineSettings,
  ) {}

  execute({ keyId, version, waitingPeriodDays, ctx }: ScheduleDestructionCommand): Promise<KeyView> {
    return this.lifecycle.run(keyId, ctx, 'schedule-destruction', (_, now) => ({
      type: 'ScheduleKeyDestruction',
      data: {
        version,
        waitingPeriodDays: waitingPeriodDays ?? DESTRUCTION_WAIT_DEFAULT_DAYS,
        minimumWaitingPeriodDays: this.settings.destructionWaitMinDays,
        now,
      },
    }));
  }
}
