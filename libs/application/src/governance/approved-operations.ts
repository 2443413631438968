import { InvalidInputError, type ApprovalRequest } from '@keyledger/domain';
import type { RequestContext } from '../shared/context.js';
import { ActivateKeyCommand, RevokeKeyCommand } from '../keys/state-changes.js';
import { DestroyKeyCommand } from '../keys/destroy.js';
import { GenerateKeyCommand, type GenerateKeyInput } from '../keys/generate.js';
import { RotateKeyCommand } from '../keys/rotate.js';
import { ScheduleDestructionCommand } from '../keys/schedule-destruction.js';

/** The lifecycle command an approved request runs. Parameters were validated when requested. */
export const commandForApproval = (request: ApprovalRequest, ctx: RequestContext): object => {
  const keyId = request.keyId ?? '';
  const version = request.version ?? undefined;
  const p = request.params;
  switch (request.operation) {
    case 'generate':
      return new GenerateKeyCommand(p as unknown as GenerateKeyInput, ctx);
    case 'activate':
      return new ActivateKeyCommand(keyId, version, ctx);
    case 'rotate':
      return new RotateKeyCommand(keyId, ctx);
    case 'revoke':
      return new RevokeKeyCommand(keyId, version, p['reason'] as never, (p['compromisedAt'] as string | undefined) ?? null, ctx);
    case 'schedule-destruction':
      return new ScheduleDestructionCommand(keyId, version, p['waitingPeriodDays'] as number | undefined, ctx);
    case 'destroy':
      return new DestroyKeyCommand(keyId, version, ctx);
    case 'export':
      throw new InvalidInputError('Root keys are non-extractable: export is not offered');
    default: {
      const _exhaustive: never = request.operation;
      return _exhaustive;
    }
  }
};
