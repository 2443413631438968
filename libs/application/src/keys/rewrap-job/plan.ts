import { activeVersion, type Key, type KeyVersion } from '@keyledger/domain';
import type { DekRewrapEvent } from './events.js';
import type { ChildVersion, HierarchyFold } from './key-hierarchy.js';

/** A DEK version still sealed under an older version of its KEK. */
export interface RewrapDebt {
  readonly dekId: string;
  readonly dekVersion: number;
  readonly tenantId: string;
  readonly materialRef: string;
  readonly fromKekVersion: number;
}

/** Where a KEK's rewrap stands, folded from its job stream. */
export interface RewrapJobState {
  /** Revision of the job stream (the expected revision of the next append), or 'no-stream'. */
  readonly revision: number | 'no-stream';
  readonly open: { readonly jobId: string; readonly toVersion: number; rewrapped: number; skipped: number } | null;
  /** DEK versions a job toward a version could not rewrap: not retried by later jobs toward it. */
  readonly skipped: ReadonlySet<string>;
}

export const skippedKey = (dekId: string, dekVersion: number, toVersion: number): string => `${dekId}#${dekVersion}->${toVersion}`;

export function foldRewrapJob(events: readonly { type: string; data: unknown; revision: number }[]): RewrapJobState {
  let open: RewrapJobState['open'] = null;
  const skipped = new Set<string>();
  for (const recorded of events) {
    const event = recorded as unknown as DekRewrapEvent;
    switch (event.type) {
      case 'DekRewrapStarted':
        open = { jobId: event.data.jobId, toVersion: event.data.toVersion, rewrapped: 0, skipped: 0 };
        break;
      case 'DekRewrapped':
        if (open) open.rewrapped += 1;
        break;
      case 'DekRewrapSkipped':
        skipped.add(skippedKey(event.data.dekId, event.data.dekVersion, event.data.toKekVersion));
        if (open) open.skipped += 1;
        break;
      case 'DekRewrapCompleted':
        open = null;
        break;
      default: {
        const _exhaustive: never = event;
        throw new Error(`Unexpected event on a rewrap stream: ${(_exhaustive as { type: string }).type}`);
      }
    }
  }
  const last = events[events.length - 1];
  return { revision: last === undefined ? 'no-stream' : last.revision, open, skipped };
}

/** The KEK version every DEK should be under: the active one (null when none is active). */
export const rewrapTarget = (kek: Key): KeyVersion | null => (kek.purpose === 'kek' ? (activeVersion(kek) ?? null) : null);

/**
 * Every DEK version still sealed under an older version of the KEK: not destroyed (its material
 * is gone), not already under the target, and not given up on by an earlier job toward it.
 */
export function rewrapDebt(hierarchy: HierarchyFold, kekId: string, target: number, skipped: ReadonlySet<string>): RewrapDebt[] {
  return hierarchy
    .children(kekId)
    .filter((child) => owes(child, target) && !skipped.has(skippedKey(child.key.keyId, child.version.version, target)))
    .map((child) => ({
      dekId: child.key.keyId,
      dekVersion: child.version.version,
      tenantId: child.key.tenantId,
      materialRef: child.version.materialRef,
      fromKekVersion: child.parentVersion!,
    }));
}

const owes = ({ version, parentVersion }: ChildVersion, target: number): boolean =>
  version.state !== 'destroyed' && parentVersion !== null && parentVersion < target;
