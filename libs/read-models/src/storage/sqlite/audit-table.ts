import type { AuditDetail, AuditEntry, AuditOutcome, AuditSubject } from '../../audit/audit-entry.js';
import type { AuditFilter, AuditQuery } from '../../audit/audit-query.js';
import type { ReadModelDatabase } from './sqlite-database.js';
import { StatementCache } from './statement-cache.js';

interface AuditRow {
  readonly position: number;
  readonly event_id: string;
  readonly recorded_at: string;
  readonly actor: string;
  readonly tenant_id: string | null;
  readonly key_id: string | null;
  readonly version: number | null;
  readonly operation: string;
  readonly outcome: AuditOutcome;
  readonly correlation_id: string;
  readonly event_type: string;
  readonly detail: string;
}

const toEntry = (row: AuditRow): AuditEntry => ({
  position: row.position,
  eventId: row.event_id,
  recordedAt: row.recorded_at,
  actor: row.actor,
  tenantId: row.tenant_id,
  keyId: row.key_id,
  version: row.version,
  operation: row.operation,
  outcome: row.outcome,
  correlationId: row.correlation_id,
  eventType: row.event_type,
  detail: JSON.parse(row.detail) as AuditDetail,
});

/** The 164.312(b) view: one row per event of the log, indexed by each filter the view offers. */
export class AuditTable {
  private readonly insertEntry;
  private readonly upsertSubject;
  private readonly statements: StatementCache;

  constructor(database: ReadModelDatabase) {
    this.statements = new StatementCache(database);
    this.insertEntry = database.prepare(
      `INSERT INTO audit_entries (position, event_id, recorded_at, actor, tenant_id, key_id, version, operation, outcome, correlation_id, event_type, detail)
       VALUES (@position, @eventId, @recordedAt, @actor, @tenantId, @keyId, @version, @operation, @outcome, @correlationId, @eventType, @detail)`,
    );
    this.upsertSubject = database.prepare(
      `INSERT INTO audit_subjects (subject_id, key_id, version, tenant_id) VALUES (@subjectId, @keyId, @version, @tenantId)
       ON CONFLICT (subject_id) DO UPDATE SET key_id = excluded.key_id, version = excluded.version, tenant_id = excluded.tenant_id`,
    );
  }

  write(entries: readonly AuditEntry[], subjects: readonly AuditSubject[]): void {
    for (const subject of subjects) this.upsertSubject.run(subject);
    for (const entry of entries) this.insertEntry.run({ ...entry, detail: JSON.stringify(entry.detail) });
  }

  subjects(subjectIds: readonly string[]): Map<string, AuditSubject> {
    const unique = [...new Set(subjectIds)];
    if (unique.length === 0) return new Map();
    const rows = this.statements.all<{ subject_id: string; key_id: string | null; version: number | null; tenant_id: string | null }>(
      `SELECT * FROM audit_subjects WHERE subject_id IN (${unique.map(() => '?').join(', ')})`,
      unique,
    );
    return new Map(rows.map((r) => [r.subject_id, { subjectId: r.subject_id, keyId: r.key_id, version: r.version, tenantId: r.tenant_id }]));
  }

  list(query: AuditQuery): AuditEntry[] {
    const { where, params } = conditions(query);
    const direction = query.order === 'desc' ? 'DESC' : 'ASC';
    if (query.after) {
      where.push(`(recorded_at, position) ${direction === 'ASC' ? '>' : '<'} (@afterRecordedAt, @afterPosition)`);
      Object.assign(params, { afterRecordedAt: query.after.recordedAt, afterPosition: query.after.position });
    }
    const sql = `SELECT * FROM audit_entries INDEXED BY ${indexFor(query)} ${whereClause(where)}
                 ORDER BY recorded_at ${direction}, position ${direction} LIMIT @limit`;
    return this.statements.all<AuditRow>(sql, { ...params, limit: query.limit }).map(toEntry);
  }

  countByVersion(filter: AuditFilter & { readonly keyId: string }): Map<number, number> {
    const { where, params } = conditions(filter);
    const sql = `SELECT version, COUNT(*) AS count FROM audit_entries ${whereClause(where)} GROUP BY version`;
    const rows = this.statements.all<{ version: number | null; count: number }>(sql, params);
    return new Map(rows.flatMap((row) => (row.version === null ? [] : [[row.version, row.count] as const])));
  }

  countRewrappedFrom(keyId: string): Map<number, number> {
    const rows = this.statements.all<{ version: number; count: number }>(REWRAPPED_FROM, [keyId]);
    return new Map(rows.map((row) => [row.version, row.count]));
  }
}

const REWRAPPED_FROM = `SELECT CAST(json_extract(detail, '$.fromVersion') AS INTEGER) AS version, COUNT(*) AS count FROM audit_entries
  WHERE key_id = ? AND operation = 'rewrap' AND outcome = 'success' AND json_extract(detail, '$.fromVersion') IS NOT NULL GROUP BY 1`;

/**
 * Each filter column has an index ending in (recorded_at, position), which serves the filter and
 * the order at once. The most selective filter given picks it: left to sampled statistics, SQLite
 * sometimes preferred the outcome index for a tenant's page, scanning a hundred times more rows.
 */
const INDEX_PRIORITY: readonly [keyof AuditFilter, string][] = [
  ['keyId', 'audit_key'],
  ['principal', 'audit_actor'],
  ['tenantId', 'audit_tenant'],
  ['operation', 'audit_operation'],
  ['outcome', 'audit_outcome'],
];

const indexFor = (filter: AuditFilter): string => INDEX_PRIORITY.find(([field]) => filter[field] !== undefined)?.[1] ?? 'audit_time';

const whereClause = (where: readonly string[]): string => (where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`);

function conditions(filter: AuditFilter): { where: string[]; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  const add = (condition: string, name: string, value: unknown): void => {
    if (value === undefined) return;
    where.push(condition);
    params[name] = value;
  };
  add('recorded_at >= @from', 'from', filter.from);
  add('recorded_at < @to', 'to', filter.to);
  add('tenant_id = @tenantId', 'tenantId', filter.tenantId);
  add('key_id = @keyId', 'keyId', filter.keyId);
  add('version = @version', 'version', filter.version);
  add('actor = @principal', 'principal', filter.principal);
  add('operation = @operation', 'operation', filter.operation);
  add('outcome = @outcome', 'outcome', filter.outcome);
  if (filter.operations !== undefined) {
    const names = filter.operations.map((_, index) => `operation${index}`);
    where.push(filter.operations.length === 0 ? '0' : `operation IN (${names.map((n) => `@${n}`).join(', ')})`);
    filter.operations.forEach((operation, index) => (params[`operation${index}`] = operation));
  }
  return { where, params };
}
