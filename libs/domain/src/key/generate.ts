import { InvalidInputError, InvalidParentError } from '../errors.js';
import { instantMillis } from '../time.js';
import type { GenerateKey, ParentKeyView } from './commands.js';
import type { KeyGenerated } from './events.js';
import { resolveCryptoperiod } from './policy.js';
import { DATA_CLASSIFICATIONS, type DataClassification, type KeyPurpose } from './types.js';

/** GenerateKey on an absent stream: version 1 starts in pre-activation (SP 800-57 §7). */
export function decideGenerate({ data }: GenerateKey): KeyGenerated[] {
  instantMillis(data.now);
  const policy = resolveCryptoperiod(data.purpose, data.cryptoperiodDays);
  assertValidParent(data.keyId, data.tenantId, data.purpose, data.parent);
  return [
    {
      type: 'KeyGenerated',
      data: {
        keyId: data.keyId,
        tenantId: data.tenantId,
        purpose: data.purpose,
        algorithm: data.algorithm,
        custodian: data.custodian,
        parentKeyId: data.parent?.keyId ?? null,
        parentVersion: data.parent?.version ?? null,
        label: data.label,
        classifications: uniqueClassifications(data.classifications),
        vendors: [...data.vendors],
        policy,
        material: { version: 1, materialRef: data.material.materialRef, fingerprint: data.material.fingerprint },
        generatedAt: data.now,
      },
    },
  ];
}

/** The envelope hierarchy of SPEC §2: root ─ KEK ─ DEK. */
const REQUIRED_PARENT: Readonly<Record<KeyPurpose, { purpose: KeyPurpose | null; optional: boolean }>> = {
  root: { purpose: null, optional: true },
  kek: { purpose: 'root', optional: true },
  dek: { purpose: 'kek', optional: false },
};

/**
 * Tenant isolation applies to KEKs and DEKs: a DEK is never wrapped by another tenant's KEK.
 * Roots are shared platform keys, so a KEK may sit under a root registered by another tenant.
 */
export function assertValidParent(
  keyId: string,
  tenantId: string,
  purpose: KeyPurpose,
  parent: ParentKeyView | null,
): void {
  const rule = REQUIRED_PARENT[purpose];
  if (parent === null) {
    if (!rule.optional) throw new InvalidParentError(`A ${purpose} needs a parent ${rule.purpose}`, { keyId, purpose });
    return;
  }
  const details = { keyId, purpose, parentKeyId: parent.keyId, parentPurpose: parent.purpose };
  if (rule.purpose === null) throw new InvalidParentError(`A ${purpose} has no parent key`, details);
  if (parent.purpose !== rule.purpose) {
    throw new InvalidParentError(`A ${purpose} must be wrapped by a ${rule.purpose}, not a ${parent.purpose}`, details);
  }
  if (parent.purpose !== 'root' && parent.tenantId !== tenantId) {
    throw new InvalidParentError(`A ${purpose} may only be wrapped by a ${parent.purpose} of its own tenant`, details);
  }
  if (!parent.canProtect) {
    throw new InvalidParentError(`Parent ${parent.keyId} version ${parent.version} may not wrap keys now`, details);
  }
}

export function uniqueClassifications(classifications: readonly DataClassification[]): DataClassification[] {
  for (const c of classifications) {
    if (!DATA_CLASSIFICATIONS.includes(c)) throw new InvalidInputError(`Unknown data classification ${c}`, { field: 'classifications' });
  }
  return [...new Set(classifications)];
}
