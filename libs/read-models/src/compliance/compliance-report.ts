import { auditEntryRef } from '../audit/audit-entry.js';
import { PROTECT_OPERATIONS } from '../events.js';
import type { InventoryKeyDocument } from '../inventory/inventory-document.js';
import type { ReadModelStorage } from '../storage/port.js';
import {
  RULE_IDS,
  RULES,
  evaluateRules,
  type CeremonyFact,
  type CompromiseExposure,
  type DeniedUseFact,
  type Finding,
  type RuleId,
  type Severity,
} from './rules.js';

export interface FindingCounts {
  readonly findings: number;
  readonly bySeverity: Readonly<Record<Severity, number>>;
  readonly byRule: Readonly<Partial<Record<RuleId, number>>>;
}

export interface ComplianceReport {
  /** The instant the time-dependent rules (rotation, ceremonies) were evaluated at. */
  readonly evaluatedAt: string;
  readonly summary: { readonly overall: FindingCounts; readonly tenants: readonly (FindingCounts & { readonly tenantId: string | null })[] };
  /** Every rule that ran, with how many findings it raised (0 is the clean case). */
  readonly rules: readonly { readonly rule: RuleId; readonly title: string; readonly severity: Severity; readonly references: readonly string[]; readonly findings: number }[];
  /** Most severe first; at most the limit asked for (`truncated` says when some were left out). */
  readonly findings: readonly Finding[];
  readonly truncated: boolean;
}

export interface ComplianceScope {
  /** Only this tenant's keys and findings; all tenants when absent. */
  readonly tenantId?: string;
  readonly rule?: RuleId;
  /** Most findings listed (the summary counts them all). */
  readonly limit?: number;
}

const EXPOSURE_SAMPLE = 10;

/** Reads the inputs from the read models, evaluates the rules at `now`, and summarizes. */
export async function complianceReport(storage: ReadModelStorage, now: string, scope: ComplianceScope = {}): Promise<ComplianceReport> {
  const keys = await storage.inventory.complianceCandidates(now, scope.tenantId);
  const [ceremonies, deniedUses, exposures, withKek] = await Promise.all([
    storage.compliance.facts('ceremony-closed') as Promise<CeremonyFact[]>,
    storage.compliance.facts('use-after-deactivation', scope.tenantId) as Promise<DeniedUseFact[]>,
    compromiseExposures(storage, keys),
    storage.inventory.tenantsWithActiveKek(),
  ]);
  const findings = evaluateRules({ now, keys, tenantsWithActiveKek: new Set(withKek), ceremonies, deniedUses, exposures });
  return reportOf(now, findings, scope);
}

const SEVERITY_ORDER: readonly Severity[] = ['high', 'medium', 'low', 'info'];

/**
 * The report of findings (only those of `scope.rule` when given): summary and rule counts over all
 * of them, the findings themselves most severe first, at most `scope.limit`.
 */
export function reportOf(now: string, all: readonly Finding[], scope: Pick<ComplianceScope, 'rule' | 'limit'> = {}): ComplianceReport {
  const matching = scope.rule ? all.filter((f) => f.rule === scope.rule) : [...all];
  const ordered = matching
    .map((finding, index) => ({ finding, index }))
    .sort((a, b) => SEVERITY_ORDER.indexOf(a.finding.severity) - SEVERITY_ORDER.indexOf(b.finding.severity) || a.index - b.index)
    .map(({ finding }) => finding);
  const limit = scope.limit ?? Number.POSITIVE_INFINITY;
  return {
    evaluatedAt: now,
    summary: summarize(matching),
    rules: ruleCounts(matching, scope.rule),
    findings: ordered.slice(0, limit),
    truncated: ordered.length > limit,
  };
}

/** Protect uses recorded under each compromised version since its compromise date (from the audit view). */
export async function compromiseExposures(storage: ReadModelStorage, keys: readonly InventoryKeyDocument[]): Promise<CompromiseExposure[]> {
  const compromised = keys.flatMap((doc) =>
    doc.key.versions.flatMap((v) => (v.compromised && v.compromisedAt ? [{ keyId: doc.key.keyId, version: v.version, since: v.compromisedAt }] : [])),
  );
  return Promise.all(
    compromised.map(async ({ keyId, version, since }) => {
      const filter = { keyId, version, operations: PROTECT_OPERATIONS, outcome: 'success' as const, from: new Date(since).toISOString() };
      const counts = await storage.audit.countByVersion(filter);
      const sample = await storage.audit.list({ ...filter, order: 'asc', limit: EXPOSURE_SAMPLE });
      return { keyId, version, uses: counts.get(version) ?? 0, evidence: sample.map(auditEntryRef) };
    }),
  );
}

const emptyCounts = (): { findings: number; bySeverity: Record<Severity, number>; byRule: Partial<Record<RuleId, number>> } => ({
  findings: 0,
  bySeverity: { high: 0, medium: 0, low: 0, info: 0 },
  byRule: {},
});

function summarize(findings: readonly Finding[]): ComplianceReport['summary'] {
  const overall = emptyCounts();
  const tenants = new Map<string | null, ReturnType<typeof emptyCounts>>();
  for (const f of findings) {
    const tenant = tenants.get(f.tenantId) ?? emptyCounts();
    tenants.set(f.tenantId, tenant);
    for (const counts of [overall, tenant]) {
      counts.findings += 1;
      counts.bySeverity[f.severity] += 1;
      counts.byRule[f.rule] = (counts.byRule[f.rule] ?? 0) + 1;
    }
  }
  const byTenant = [...tenants.entries()]
    .map(([tenantId, counts]) => ({ tenantId, ...counts }))
    .sort((a, b) => (a.tenantId ?? '').localeCompare(b.tenantId ?? ''));
  return { overall, tenants: byTenant };
}

function ruleCounts(findings: readonly Finding[], only: RuleId | undefined): ComplianceReport['rules'] {
  return RULE_IDS.filter((rule) => only === undefined || rule === only).map((rule) => ({
    ...RULES[rule],
    findings: findings.filter((f) => f.rule === rule).length,
  }));
}
