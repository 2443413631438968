import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { KeyNotFoundError } from '@keyledger/domain';
import { keyLineage, type KeyLineage } from '@keyledger/read-models';
import { KeyRepository } from '../keys/key-repository.js';
import { canSeeTenant, type RequestContext } from '../shared/context.js';
import { ReadSideService } from './read-side.service.js';

export class KeyLineageQuery {
  constructor(readonly keyId: string, readonly ctx: RequestContext) {}
}

/**
 * tenant → DEK → KEK → root, data classes, and re-encryption debt per version. The key itself is
 * checked like any read of a key (another tenant's key is "not found", and the attempt recorded);
 * keys above or below it of tenants the reader may not see are shown without their identity.
 */
@QueryHandler(KeyLineageQuery)
export class KeyLineageHandler implements IQueryHandler<KeyLineageQuery, KeyLineage> {
  constructor(
    private readonly keys: KeyRepository,
    private readonly readSide: ReadSideService,
  ) {}

  async execute({ keyId, ctx }: KeyLineageQuery): Promise<KeyLineage> {
    await this.keys.load(keyId, ctx, 'lineage');
    await this.readSide.caughtUp(['inventory', 'audit']);
    const lineage = await keyLineage(this.readSide.storage, keyId, { canSee: (tenantId) => canSeeTenant(ctx.actor, tenantId) });
    if (lineage === null) throw new KeyNotFoundError(keyId);
    return lineage;
  }
}
