import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  assertValidParent,
  decideKey,
  initialKeyState,
  type CustodianName,
  type DataClassification,
  type KeyAlgorithm,
  type KeyPurpose,
  type VendorIntegration,
} from '@keyledger/domain';
import type { KeyCustodian } from '@keyledger/custody';
import type { RequestContext } from '../shared/context.js';
import { CLOCK, KEY_CUSTODIAN, type Clock } from '../shared/tokens.js';
import { KeyRepository } from './key-repository.js';
import { toKeyView, type KeyView } from './key-view.js';
import { ParentKeys } from './parent-keys.js';
import { discardOnFailure } from './material.js';
import { assertDualControl } from '../governance/dual-control.js';

export interface GenerateKeyInput {
  tenantId: string;
  purpose: KeyPurpose;
  algorithm: KeyAlgorithm;
  parentKeyId: string | null;
  custodian: CustodianName | null;
  classifications: DataClassification[];
  vendors: VendorIntegration[];
  cryptoperiodDays: number | null;
  label: string | null;
}

export class GenerateKeyCommand {
  constructor(readonly input: GenerateKeyInput, readonly ctx: RequestContext) {}
}

/**
 * Generation asks the custodian for material first (the decider takes the fresh handle and
 * fingerprint with the command), so material the decider refuses is erased again at once.
 */
@CommandHandler(GenerateKeyCommand)
export class GenerateKeyHandler implements ICommandHandler<GenerateKeyCommand, KeyView> {
  constructor(
    private readonly keys: KeyRepository,
    private readonly parents: ParentKeys,
    @Inject(KEY_CUSTODIAN) private readonly custodian: KeyCustodian,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ input, ctx }: GenerateKeyCommand): Promise<KeyView> {
    assertDualControl(input.purpose, 'generate', ctx);
    const now = this.clock.now().toISOString();
    const keyId = randomUUID();
    const parent = await this.parents.resolve(input.parentKeyId, ctx, now);
    // The decider checks this again; checking first keeps refused requests away from the custodian.
    assertValidParent(keyId, input.tenantId, input.purpose, parent?.view ?? null);
    const material = await this.custodian.generateKey({
      keyId,
      version: 1,
      tenantId: input.tenantId,
      purpose: input.purpose,
      wrappingRef: parent?.wrappingRef ?? null,
    });
    return discardOnFailure(this.custodian, material.materialRef, async () => {
      const events = decideKey(
        {
          type: 'GenerateKey',
          data: {
            ...input,
            keyId,
            custodian: input.custodian ?? this.custodian.kind,
            parent: parent?.view ?? null,
            material,
            now,
          },
        },
        initialKeyState(),
      );
      const created = await this.keys.append(keyId, events, 'no-stream', ctx, input.tenantId);
      return toKeyView(created.key, created.revision);
    });
  }
}
