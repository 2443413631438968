import { Injectable } from '@nestjs/common';
import { UsageNotAllowedError, checkUsage, type Key, type ParentKeyView } from '@keyledger/domain';
import type { RequestContext } from '../shared/context.js';
import { KeyRepository } from './key-repository.js';

export interface ResolvedParent {
  readonly view: ParentKeyView;
  /** Material of the parent version that wraps the child's material at rest. */
  readonly wrappingRef: string | null;
}

/** Reads a parent key for generate and rotate: which version would wrap, and whether it may. */
@Injectable()
export class ParentKeys {
  constructor(private readonly keys: KeyRepository) {}

  async resolve(parentKeyId: string | null, ctx: RequestContext, now: string): Promise<ResolvedParent | null> {
    if (parentKeyId === null) return null;
    const { key } = await this.keys.load(parentKeyId, ctx, 'generate');
    return describeParent(key, now);
  }
}

export const describeParent = (key: Key, now: string): ResolvedParent => {
  try {
    const version = checkUsage(key, 'protect', now);
    return {
      view: { keyId: key.keyId, tenantId: key.tenantId, purpose: key.purpose, version: version.version, canProtect: true },
      wrappingRef: version.materialRef,
    };
  } catch (error) {
    if (!(error instanceof UsageNotAllowedError)) throw error;
    return {
      view: { keyId: key.keyId, tenantId: key.tenantId, purpose: key.purpose, version: key.currentVersion, canProtect: false },
      wrappingRef: null,
    };
  }
};
