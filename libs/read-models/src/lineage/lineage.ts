import type { Key, KeyPurpose, KeyVersionState } from '@keyledger/domain';
import { CIPHERTEXT_OPERATIONS } from '../events.js';
import { wrappedByOf, type InventoryKeyDocument } from '../inventory/inventory-document.js';
import type { ReadModelStorage } from '../storage/port.js';

/** One key of a lineage. Keys of tenants the reader may not see keep only their purpose. */
export interface LineageNode {
  readonly id: string | null;
  readonly purpose: KeyPurpose;
  readonly tenantId: string | null;
  readonly visible: boolean;
  readonly custodian: string | null;
  readonly currentVersion: number | null;
  readonly state: KeyVersionState | null;
  readonly classifications: readonly string[];
}

export interface DependentCounts {
  /** Keys with a version wrapped under this version (and not destroyed). */
  readonly keys: number;
  readonly keyVersions: number;
  /** Ciphertexts known to depend on it: data keys, encryptions, wraps and rewraps recorded under it. */
  readonly ciphertexts: number;
}

export interface VersionDebt {
  readonly version: number;
  readonly state: KeyVersionState;
  /** True for the version that protects now: what depends on it is not debt. */
  readonly protecting: boolean;
  readonly dependents: DependentCounts;
  /** What must still be re-encrypted before this version can retire (zero for the protecting or a destroyed version). */
  readonly reencryptionDebt: DependentCounts;
}

export interface KeyLineage {
  readonly keyId: string;
  readonly tenantId: string;
  readonly purpose: KeyPurpose;
  /** tenant → this key → its parent → … → root. */
  readonly chain: readonly ({ readonly level: 'tenant'; readonly tenantId: string } | ({ readonly level: KeyPurpose } & LineageNode))[];
  /** Keys under this one (all levels, breadth first), up to a bound. */
  readonly descendants: { readonly total: number; readonly truncated: boolean; readonly items: readonly LineageNode[] };
  /** Tenants whose keys depend on this key, itself included (visible ones only). */
  readonly tenants: readonly string[];
  /** Data classes protected by this key and everything under it. */
  readonly dataClasses: readonly string[];
  readonly versions: readonly VersionDebt[];
}

export interface LineageOptions {
  /** Whether the reader may see keys of this tenant. */
  readonly canSee: (tenantId: string) => boolean;
  /** Most descendants loaded (a root may have many). */
  readonly maxDescendants?: number;
}

const MAX_ANCESTORS = 8;

/** The lineage of a key from the inventory, and its re-encryption debt from the inventory and the audit view. */
export async function keyLineage(storage: ReadModelStorage, keyId: string, options: LineageOptions): Promise<KeyLineage | null> {
  const doc = (await storage.inventory.current([keyId])).get(keyId);
  if (!doc) return null;
  const ancestors = await ancestorsOf(storage, doc.key);
  const descendants = await descendantsOf(storage, keyId, options.maxDescendants ?? 10_000);
  const ciphertexts = await knownCiphertexts(storage, keyId);
  const node = (key: Key) => toNode(key, options.canSee);
  const visibleBelow = descendants.docs.filter((d) => options.canSee(d.key.tenantId)).map((d) => d.key);
  return {
    keyId,
    tenantId: doc.key.tenantId,
    purpose: doc.key.purpose,
    chain: [{ level: 'tenant', tenantId: doc.key.tenantId }, ...[doc.key, ...ancestors].map((key) => ({ level: key.purpose, ...node(key) }))],
    descendants: { total: descendants.docs.length, truncated: descendants.truncated, items: descendants.docs.map((d) => node(d.key)) },
    tenants: sortedUnique([doc.key.tenantId, ...visibleBelow.map((k) => k.tenantId)]),
    dataClasses: sortedUnique([doc.key, ...visibleBelow].flatMap((k) => k.classifications)),
    versions: doc.key.versions.map((v) => versionDebt(doc.key, v.version, descendants.children, ciphertexts.get(v.version) ?? 0)),
  };
}

/**
 * Ciphertexts known to depend on each version: those produced under it (data keys, encryptions,
 * wraps, rewraps to it) minus those rewrapped away from it since. What callers did with their
 * ciphertexts outside keyledger is unknown, so this is what the log can tell.
 */
async function knownCiphertexts(storage: ReadModelStorage, keyId: string): Promise<Map<number, number>> {
  const [produced, rewrappedAway] = await Promise.all([
    storage.audit.countByVersion({ keyId, operations: CIPHERTEXT_OPERATIONS, outcome: 'success' }),
    storage.audit.countRewrappedFrom(keyId),
  ]);
  return new Map([...produced].map(([version, count]) => [version, Math.max(0, count - (rewrappedAway.get(version) ?? 0))]));
}

async function ancestorsOf(storage: ReadModelStorage, key: Key): Promise<Key[]> {
  const found: Key[] = [];
  let parentId = key.parentKeyId;
  while (parentId !== null && found.length < MAX_ANCESTORS) {
    const parent = (await storage.inventory.current([parentId])).get(parentId);
    if (!parent) break;
    found.push(parent.key);
    parentId = parent.key.parentKeyId;
  }
  return found;
}

/** Breadth first; `children` are the direct children (all of them: the debt counts need every one). */
async function descendantsOf(
  storage: ReadModelStorage,
  keyId: string,
  max: number,
): Promise<{ docs: InventoryKeyDocument[]; children: InventoryKeyDocument[]; truncated: boolean }> {
  const children = await storage.inventory.children([keyId]);
  const docs = [...children];
  let level = children;
  while (level.length > 0 && docs.length < max) {
    level = await storage.inventory.children(level.map((d) => d.key.keyId));
    docs.push(...level);
  }
  return { docs: docs.slice(0, max), children, truncated: docs.length >= max };
}

function versionDebt(key: Key, version: number, children: readonly InventoryKeyDocument[], ciphertexts: number): VersionDebt {
  const v = key.versions.find((candidate) => candidate.version === version)!;
  const wrapped = children.flatMap((child) =>
    child.key.versions.filter((cv) => wrappedByOf(child, cv.version) === version && cv.state !== 'destroyed').map(() => child.key.keyId),
  );
  const dependents = { keys: new Set(wrapped).size, keyVersions: wrapped.length, ciphertexts };
  const protecting = v.state === 'active' && key.currentVersion === version;
  const owes = !protecting && v.state !== 'destroyed';
  return {
    version,
    state: v.state,
    protecting,
    dependents,
    reencryptionDebt: owes ? dependents : { keys: 0, keyVersions: 0, ciphertexts: 0 },
  };
}

function toNode(key: Key, canSee: (tenantId: string) => boolean): LineageNode {
  if (!canSee(key.tenantId)) {
    return { id: null, purpose: key.purpose, tenantId: null, visible: false, custodian: null, currentVersion: null, state: null, classifications: [] };
  }
  return {
    id: key.keyId,
    purpose: key.purpose,
    tenantId: key.tenantId,
    visible: true,
    custodian: key.custodian,
    currentVersion: key.currentVersion,
    state: key.versions.find((v) => v.version === key.currentVersion)?.state ?? null,
    classifications: [...key.classifications],
  };
}

const sortedUnique = (values: readonly string[]): string[] => [...new Set(values)].sort();
