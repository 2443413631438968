import { MILLIS_PER_DAY, activeVersion, type Key, type KeyVersion } from '@keyledger/domain';
import type { EventRef } from '../events.js';
import {
  hasVerifiedEvidence,
  isFullyDestroyed,
  wrappedByOf,
  type InventoryKeyDocument,
  type VersionEvidence,
} from '../inventory/inventory-document.js';
import { SENSITIVE_CLASSES } from './candidates.js';
import type { ComplianceFact } from './compliance-facts.js';

/** The regulations and standards findings cite (SPEC §7). */
export const REFERENCES = {
  hipaaEncryption: '45 CFR 164.312(a)(2)(iv)',
  hipaaAudit: '45 CFR 164.312(b)',
  hipaaRiskManagement: '45 CFR 164.308(a)(1)(ii)(B)',
  hipaaBusinessAssociates: '45 CFR 164.308(b)(1)',
  cryptoperiods: 'NIST SP 800-57 Part 1 Rev. 5 §5.3',
  keyStates: 'NIST SP 800-57 Part 1 Rev. 5 §7',
  keyManagement: 'NIST SP 800-53 Rev. 5 SC-12',
  cryptographicProtection: 'NIST SP 800-53 Rev. 5 SC-13',
} as const;

export const RULE_IDS = [
  'rotation-overdue',
  'use-after-deactivation-attempted',
  'destruction-without-evidence',
  'no-annual-root-ceremony',
  'tenant-without-own-kek',
  'classification-missing',
  'vendor-without-byok-or-zero-retention',
  'vendor-without-baa',
  'data-protected-after-compromise',
  'sensitive-data-outside-hsm',
  'root-cryptoperiod-deviation',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export type Severity = 'high' | 'medium' | 'low' | 'info';

export interface RuleDefinition {
  readonly rule: RuleId;
  readonly title: string;
  readonly severity: Severity;
  readonly references: readonly string[];
}

const R = REFERENCES;
export const RULES: Readonly<Record<RuleId, RuleDefinition>> = {
  'rotation-overdue': {
    rule: 'rotation-overdue',
    title: 'Version still protecting after the end of its cryptoperiod',
    severity: 'high',
    references: [R.cryptoperiods, R.hipaaEncryption, R.keyManagement],
  },
  'use-after-deactivation-attempted': {
    rule: 'use-after-deactivation-attempted',
    title: 'Use of a deactivated, compromised or destroyed version attempted',
    severity: 'medium',
    references: [R.hipaaAudit, R.keyStates],
  },
  'destruction-without-evidence': {
    rule: 'destruction-without-evidence',
    title: 'Version destroyed without verified custodian evidence',
    severity: 'high',
    references: [R.keyStates, R.keyManagement],
  },
  'no-annual-root-ceremony': {
    rule: 'no-annual-root-ceremony',
    title: 'Root key without a closed key ceremony in the last 12 months',
    severity: 'high',
    references: [R.hipaaRiskManagement, R.keyManagement],
  },
  'tenant-without-own-kek': {
    rule: 'tenant-without-own-kek',
    title: 'Tenant with data keys but no active key-encryption key of its own',
    severity: 'high',
    references: [R.hipaaEncryption, R.keyManagement],
  },
  'classification-missing': {
    rule: 'classification-missing',
    title: 'Key without a data classification',
    severity: 'medium',
    references: [R.hipaaRiskManagement, R.keyManagement],
  },
  'vendor-without-byok-or-zero-retention': {
    rule: 'vendor-without-byok-or-zero-retention',
    title: 'Vendor integration without BYOK, customer-managed key or zero retention',
    severity: 'high',
    references: [R.hipaaRiskManagement, R.hipaaEncryption],
  },
  'vendor-without-baa': {
    rule: 'vendor-without-baa',
    title: 'Vendor integration serving health data without a signed BAA',
    severity: 'high',
    references: [R.hipaaBusinessAssociates, R.hipaaRiskManagement],
  },
  'data-protected-after-compromise': {
    rule: 'data-protected-after-compromise',
    title: 'Data or keys protected under a version after its compromise date',
    severity: 'high',
    references: [R.hipaaEncryption, R.keyStates, R.keyManagement],
  },
  'sensitive-data-outside-hsm': {
    rule: 'sensitive-data-outside-hsm',
    title: '42 CFR Part 2 or controlled-substance data under a key outside an HSM or KMS',
    severity: 'medium',
    references: [R.cryptographicProtection, R.hipaaEncryption],
  },
  'root-cryptoperiod-deviation': {
    rule: 'root-cryptoperiod-deviation',
    title: 'Root originator-usage period beyond SP 800-57 Table 1 (documented deviation)',
    severity: 'info',
    references: [R.cryptoperiods],
  },
};

export interface Finding {
  /** Stable for the same rule and subject, so that a finding can be followed over time. */
  readonly id: string;
  readonly rule: RuleId;
  readonly title: string;
  readonly severity: Severity;
  readonly references: readonly string[];
  readonly tenantId: string | null;
  readonly keyId: string | null;
  readonly version: number | null;
  readonly detail: string;
  readonly evidence: readonly EventRef[];
}

/** Protect uses of a compromised version recorded at or after its compromise date. */
export interface CompromiseExposure {
  readonly keyId: string;
  readonly version: number;
  readonly uses: number;
  /** The first of those uses (a sample: `uses` says how many there are). */
  readonly evidence: readonly EventRef[];
}

export type CeremonyFact = Extract<ComplianceFact, { kind: 'ceremony-closed' }>;
export type DeniedUseFact = Extract<ComplianceFact, { kind: 'use-after-deactivation' }>;

/** Everything the rules read: projected facts, plus the instant "now" for the rules that depend on it. */
export interface ComplianceInputs {
  readonly now: string;
  /**
   * Every key a rule may fire on (all keys will do; the storage selects candidates), and the keys
   * under a compromised one.
   */
  readonly keys: readonly InventoryKeyDocument[];
  /** Tenants that have an active KEK of their own. */
  readonly tenantsWithActiveKek: ReadonlySet<string>;
  readonly ceremonies: readonly CeremonyFact[];
  readonly deniedUses: readonly DeniedUseFact[];
  readonly exposures: readonly CompromiseExposure[];
}

export const CEREMONY_INTERVAL_DAYS = 365;
const HEALTH_CLASSES: readonly string[] = ['ephi', 'sud-42cfr2', 'behavioral-health'];
const ACCEPTED_KEY_MODES: readonly string[] = ['byok', 'cmk', 'zero-retention'];
const ACCEPTED_BAA: readonly string[] = ['signed', 'not-required'];
const EVIDENCE_SAMPLE = 10;

/** Every rule over the inputs. Pure: the same inputs and `now` give the same findings, in the same order. */
export function evaluateRules(inputs: ComplianceInputs): Finding[] {
  const live = inputs.keys.filter((doc) => !isFullyDestroyed(doc.key));
  return [
    ...inputs.keys.flatMap((doc) => rotationOverdue(doc, inputs.now)),
    ...inputs.deniedUses.map(useAfterDeactivation),
    ...inputs.keys.flatMap(destructionWithoutEvidence),
    ...live.filter((doc) => doc.key.purpose === 'root').flatMap((doc) => noAnnualCeremony(doc, inputs)),
    ...tenantsWithoutKek(live, inputs.tenantsWithActiveKek),
    ...live.flatMap(classificationMissing),
    ...live.flatMap(vendorKeyControl),
    ...live.flatMap(vendorBaa),
    ...inputs.keys.flatMap((doc) => protectedAfterCompromise(doc, inputs)),
    ...live.flatMap(sensitiveOutsideHsm),
    ...live.flatMap(rootDeviation),
  ];
}

/** The tenants with an active KEK among these keys (for callers that hold every key). */
export const tenantsWithActiveKek = (keys: readonly InventoryKeyDocument[]): Set<string> =>
  new Set(keys.filter((d) => d.key.purpose === 'kek' && activeVersion(d.key) !== undefined).map((d) => d.key.tenantId));

function evidenceOf(doc: InventoryKeyDocument, version: number): VersionEvidence | undefined {
  return doc.versions.find((v) => v.version === version);
}

function finding(rule: RuleId, subject: { tenantId: string | null; keyId: string | null; version: number | null }, detail: string, evidence: readonly (EventRef | null | undefined)[], suffix = ''): Finding {
  const { title, severity, references } = RULES[rule];
  const id = [rule, subject.tenantId ?? '-', subject.keyId ?? '-', subject.version ?? '-', suffix].filter((p) => p !== '').join(':');
  return { id, rule, title, severity, references, ...subject, detail, evidence: evidence.filter((e): e is EventRef => !!e) };
}

const subjectOf = (key: Key, version: number | null = null) => ({ tenantId: key.tenantId, keyId: key.keyId, version });

function rotationOverdue(doc: InventoryKeyDocument, now: string): Finding[] {
  const active = activeVersion(doc.key);
  if (!active?.protectUntil || Date.parse(active.protectUntil) > Date.parse(now)) return [];
  const ref = evidenceOf(doc, active.version);
  return [
    finding(
      'rotation-overdue',
      subjectOf(doc.key, active.version),
      `Version ${active.version} of ${doc.key.purpose} ${doc.key.keyId} may protect only until ${active.protectUntil}; rotate it`,
      [ref?.activated ?? ref?.created],
    ),
  ];
}

function useAfterDeactivation(fact: DeniedUseFact): Finding {
  return finding(
    'use-after-deactivation-attempted',
    { tenantId: fact.tenantId, keyId: fact.keyId, version: fact.version },
    `${fact.operation} of version ${fact.version} of key ${fact.keyId} was attempted at ${fact.at} while it was ${fact.state}`,
    [fact.evidence, fact.stateEvidence],
    String(fact.position),
  );
}

function destructionWithoutEvidence(doc: InventoryKeyDocument): Finding[] {
  return doc.key.versions
    .filter((v) => v.state === 'destroyed')
    .flatMap((v) => {
      const ref = evidenceOf(doc, v.version);
      if (hasVerifiedEvidence(ref)) return [];
      return [
        finding(
          'destruction-without-evidence',
          subjectOf(doc.key, v.version),
          `Version ${v.version} of key ${doc.key.keyId} is destroyed, but the custodian did not verify that its material is gone`,
          [ref?.destroyed],
        ),
      ];
    });
}

function noAnnualCeremony(doc: InventoryKeyDocument, inputs: ComplianceInputs): Finding[] {
  const since = Date.parse(inputs.now) - CEREMONY_INTERVAL_DAYS * MILLIS_PER_DAY;
  const covering = inputs.ceremonies.filter((c) => c.keyId === null || c.keyId === doc.key.keyId);
  const recent = covering.filter((c) => Date.parse(c.at) >= since && Date.parse(c.at) <= Date.parse(inputs.now));
  if (recent.length > 0) return [];
  const last = covering[covering.length - 1];
  return [
    finding(
      'no-annual-root-ceremony',
      subjectOf(doc.key),
      last
        ? `Root ${doc.key.keyId}: the last closed ceremony covering it was ${last.ceremonyId} at ${last.at}, more than 12 months ago`
        : `Root ${doc.key.keyId} has no closed key ceremony (CeremonyClosed) covering it`,
      [doc.generated, last?.evidence],
    ),
  ];
}

function tenantsWithoutKek(live: readonly InventoryKeyDocument[], withKek: ReadonlySet<string>): Finding[] {
  const tenants = [...new Set(live.filter((d) => d.key.purpose === 'dek').map((d) => d.key.tenantId))].sort();
  return tenants.flatMap((tenantId) => {
    if (withKek.has(tenantId)) return [];
    const deks = live.filter((d) => d.key.purpose === 'dek' && d.key.tenantId === tenantId);
    return [
      finding(
        'tenant-without-own-kek',
        { tenantId, keyId: null, version: null },
        `Tenant ${tenantId} has ${deks.length} data key(s) but no active key-encryption key of its own`,
        deks.slice(0, EVIDENCE_SAMPLE).map((d) => d.generated),
      ),
    ];
  });
}

function classificationMissing(doc: InventoryKeyDocument): Finding[] {
  if (doc.key.classifications.length > 0) return [];
  return [finding('classification-missing', subjectOf(doc.key), `Key ${doc.key.keyId} (${doc.key.purpose}) carries no data classification`, [doc.generated])];
}

function vendorKeyControl(doc: InventoryKeyDocument): Finding[] {
  return doc.key.vendors
    .filter((vendor) => !ACCEPTED_KEY_MODES.includes(vendor.mode))
    .map((vendor) =>
      finding(
        'vendor-without-byok-or-zero-retention',
        subjectOf(doc.key),
        `Key ${doc.key.keyId} serves vendor ${vendor.name} in mode "${vendor.mode}": neither BYOK, a customer-managed key nor zero retention`,
        [doc.generated],
        vendor.name,
      ),
    );
}

function vendorBaa(doc: InventoryKeyDocument): Finding[] {
  if (!doc.key.classifications.some((c) => HEALTH_CLASSES.includes(c))) return [];
  return doc.key.vendors
    .filter((vendor) => !ACCEPTED_BAA.includes(vendor.baaStatus))
    .map((vendor) =>
      finding(
        'vendor-without-baa',
        subjectOf(doc.key),
        `Key ${doc.key.keyId} protects ${doc.key.classifications.join(', ')} data for vendor ${vendor.name}, whose BAA is "${vendor.baaStatus}"`,
        [doc.generated],
        vendor.name,
      ),
    );
}

function protectedAfterCompromise(doc: InventoryKeyDocument, inputs: ComplianceInputs): Finding[] {
  return doc.key.versions
    .filter((v): v is KeyVersion & { compromisedAt: string } => v.compromised && v.compromisedAt !== null)
    .flatMap((v) => {
      const exposure = inputs.exposures.find((e) => e.keyId === doc.key.keyId && e.version === v.version);
      const wrapped = childrenWrappedAfter(inputs.keys, doc.key.keyId, v.version, v.compromisedAt);
      const uses = exposure?.uses ?? 0;
      if (uses === 0 && wrapped.length === 0) return [];
      return [
        finding(
          'data-protected-after-compromise',
          subjectOf(doc.key, v.version),
          `Version ${v.version} of key ${doc.key.keyId} was compromised at ${v.compromisedAt}; since then it protected ${uses} time(s) and wrapped ${wrapped.length} key version(s): re-protect that data`,
          [evidenceOf(doc, v.version)?.compromised, ...(exposure?.evidence ?? []), ...wrapped.slice(0, EVIDENCE_SAMPLE)],
        ),
      ];
    });
}

/**
 * Versions of child keys wrapped under (key, version) at or after `since`, created under it or
 * rewrapped to it: their material was protected by a compromised key.
 */
function childrenWrappedAfter(keys: readonly InventoryKeyDocument[], keyId: string, version: number, since: string): EventRef[] {
  const after = (instant: string) => Date.parse(instant) >= Date.parse(since);
  return keys
    .filter((child) => child.key.parentKeyId === keyId)
    .flatMap((child) =>
      child.key.versions.flatMap((v) => {
        const record = evidenceOf(child, v.version);
        if (wrappedByOf(child, v.version) !== version) return [];
        if (record?.rewrapped && after(record.rewrapped.recordedAt)) return [record.rewrapped];
        return !record?.rewrapped && after(v.createdAt) && record ? [record.created] : [];
      }),
    );
}

function sensitiveOutsideHsm(doc: InventoryKeyDocument): Finding[] {
  const sensitive = doc.key.classifications.filter((c) => SENSITIVE_CLASSES.includes(c));
  if (sensitive.length === 0 || doc.key.custodian !== 'software') return [];
  return [
    finding(
      'sensitive-data-outside-hsm',
      subjectOf(doc.key),
      `Key ${doc.key.keyId} protects ${sensitive.join(', ')} data with the software custodian (not FIPS 140-3 validated)`,
      [doc.generated],
    ),
  ];
}

function rootDeviation(doc: InventoryKeyDocument): Finding[] {
  if (doc.key.purpose !== 'root' || doc.key.policy.deviation === null) return [];
  return [finding('root-cryptoperiod-deviation', subjectOf(doc.key), doc.key.policy.deviation, [doc.generated])];
}
