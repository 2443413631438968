import type { Key, KeyVersion } from '@keyledger/domain';
import type { ChildVersion, HierarchyFold } from '../rewrap-job/key-hierarchy.js';

/** A key version whose material is sealed (directly or through another key) under the one destroyed. */
export interface UnreadableKeyVersion {
  keyId: string;
  version: number;
  purpose: Key['purpose'];
  tenantId: string;
  state: KeyVersion['state'];
  classifications: string[];
  wrappedBy: { keyId: string; version: number };
}

/** SPEC §7: before a destruction, what becomes unreadable with it. */
export interface DestructionImpact {
  keyId: string;
  version: number;
  purpose: Key['purpose'];
  tenantId: string;
  custodian: Key['custodian'];
  state: KeyVersion['state'];
  /** Key versions lost with this one: DEKs still wrapped under it (not yet rewrapped), and what they wrap. */
  unreadableKeys: UnreadableKeyVersion[];
  /** Tenants whose data becomes unreadable. */
  tenants: string[];
  /** Data classes of the key and of every key lost with it. */
  dataClasses: string[];
  /**
   * Recorded protect uses (encrypt, data keys, rewraps into, distributions) of this version and
   * of the keys lost with it: the ciphertexts and data keys keyledger knows of that are lost.
   */
  protectUses: { thisVersion: number; unreadableKeys: number };
  /** Position of the last event the report reflects. */
  asOfPosition: number;
}

/** Protect uses recorded for one key version (counted from its usage stream). */
export type UseCounter = (keyId: string, version: number) => number;

/**
 * A child's material is sealed under its parent when it is a DEK (always wrapped outside the
 * device) or held by the software custodian. A KEK that is an HSM object or a KMS key is
 * protected by its device, so destroying the root above it does not destroy it.
 */
const sealedUnderParent = (child: ChildVersion): boolean => child.key.purpose === 'dek' || child.key.custodian === 'software';

export function unreadableWith(hierarchy: HierarchyFold, keyId: string, version: number): UnreadableKeyVersion[] {
  const lost: UnreadableKeyVersion[] = [];
  const queue = [{ keyId, version }];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const parent = next;
    for (const child of hierarchy.children(parent.keyId)) {
      if (child.parentVersion !== parent.version || child.version.state === 'destroyed' || !sealedUnderParent(child)) continue;
      lost.push({
        keyId: child.key.keyId,
        version: child.version.version,
        purpose: child.key.purpose,
        tenantId: child.key.tenantId,
        state: child.version.state,
        classifications: [...child.key.classifications],
        wrappedBy: parent,
      });
      queue.push({ keyId: child.key.keyId, version: child.version.version });
    }
  }
  return lost;
}

export function destructionImpact(hierarchy: HierarchyFold, key: Key, target: KeyVersion, countUses: UseCounter): DestructionImpact {
  const lost = unreadableWith(hierarchy, key.keyId, target.version);
  const sorted = (values: Iterable<string>) => [...new Set(values)].sort();
  return {
    keyId: key.keyId,
    version: target.version,
    purpose: key.purpose,
    tenantId: key.tenantId,
    custodian: key.custodian,
    state: target.state,
    unreadableKeys: lost,
    tenants: sorted([key.tenantId, ...lost.map((k) => k.tenantId)]),
    dataClasses: sorted([...key.classifications, ...lost.flatMap((k) => k.classifications)]),
    protectUses: {
      thisVersion: countUses(key.keyId, target.version),
      unreadableKeys: lost.reduce((sum, k) => sum + countUses(k.keyId, k.version), 0),
    },
    asOfPosition: hierarchy.position,
  };
}
