import type { AuditDetail, AuditEntry, AuditOutcome, AuditSubject } from '../../audit/audit-entry.js';
import type { AuditFilter, AuditQuery } from '../../audit/audit-query.js';
import { Params, toNumber, toNumberOrNull, type PgQueryable, type ReadModelTables } from './pg-sql.js';

type AuditRow = {
  position: string;
  event_id: string;
  recorded_at: string;
  actor: string;
  tenant_id: string | null;
  key_id: string | null;
  version: number | null;
  operation: string;
  outcome: AuditOutcome;
  correlation_id: string;
  event_type: string;
  detail: string;
};

const toEntry = (row: AuditRow): AuditEntry => ({
  position: toNumber(row.position),
  eventId: row.event_id,
  recordedAt: row.recorded_at,
  actor: row.actor,
  tenantId: row.tenant_id,
  keyId: row.key_id,
  version: toNumberOrNull(row.version),
  operation: row.operation,
  outcome: row.outcome,
  correlationId: row.correlation_id,
  eventType: row.event_type,
  detail: JSON.parse(row.detail) as AuditDetail,
});

export class PgAudit {
  constructor(private readonly t: ReadModelTables) {}

  async write(sql: PgQueryable, entries: readonly AuditEntry[], subjects: readonly AuditSubject[]): Promise<void> {
    if (subjects.length > 0) {
      await sql.query(
        `INSERT INTO ${this.t.auditSubjects} (subject_id, key_id, version, tenant_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[])
         ON CONFLICT (subject_id) DO UPDATE SET key_id = EXCLUDED.key_id, version = EXCLUDED.version, tenant_id = EXCLUDED.tenant_id`,
        [subjects.map((s) => s.subjectId), subjects.map((s) => s.keyId), subjects.map((s) => s.version), subjects.map((s) => s.tenantId)],
      );
    }
    if (entries.length === 0) return;
    const column = <K extends keyof AuditEntry>(name: K) => entries.map((e) => e[name]);
    await sql.query(
      `INSERT INTO ${this.t.auditEntries} (position, event_id, recorded_at, actor, tenant_id, key_id, version, operation, outcome, correlation_id, event_type, detail)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::integer[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])`,
      [
        column('position'),
        column('eventId'),
        column('recordedAt'),
        column('actor'),
        column('tenantId'),
        column('keyId'),
        column('version'),
        column('operation'),
        column('outcome'),
        column('correlationId'),
        column('eventType'),
        entries.map((e) => JSON.stringify(e.detail)),
      ],
    );
  }

  async subjects(sql: PgQueryable, subjectIds: readonly string[]): Promise<Map<string, AuditSubject>> {
    if (subjectIds.length === 0) return new Map();
    const { rows } = await sql.query(`SELECT * FROM ${this.t.auditSubjects} WHERE subject_id = ANY($1::text[])`, [[...new Set(subjectIds)]]);
    return new Map(
      (rows as { subject_id: string; key_id: string | null; version: number | null; tenant_id: string | null }[]).map((r) => [
        r.subject_id,
        { subjectId: r.subject_id, keyId: r.key_id, version: toNumberOrNull(r.version), tenantId: r.tenant_id },
      ]),
    );
  }

  async list(sql: PgQueryable, query: AuditQuery): Promise<AuditEntry[]> {
    const params = new Params();
    const where = conditions(query, params);
    const direction = query.order === 'desc' ? 'DESC' : 'ASC';
    if (query.after) {
      where.push(`(recorded_at, position) ${direction === 'ASC' ? '>' : '<'} (${params.add(query.after.recordedAt)}, ${params.add(query.after.position)}::bigint)`);
    }
    const { rows } = await sql.query(
      `SELECT * FROM ${this.t.auditEntries} ${whereClause(where)} ORDER BY recorded_at ${direction}, position ${direction} LIMIT ${params.add(query.limit)}`,
      params.values,
    );
    return (rows as AuditRow[]).map(toEntry);
  }

  async countByVersion(sql: PgQueryable, filter: AuditFilter & { readonly keyId: string }): Promise<Map<number, number>> {
    const params = new Params();
    const where = conditions(filter, params);
    const { rows } = await sql.query(`SELECT version, count(*) AS count FROM ${this.t.auditEntries} ${whereClause(where)} GROUP BY version`, params.values);
    return new Map(
      (rows as { version: number | null; count: string }[]).flatMap((row) => (row.version === null ? [] : [[toNumber(row.version), toNumber(row.count)] as const])),
    );
  }
  async countRewrappedFrom(sql: PgQueryable, keyId: string): Promise<Map<number, number>> {
    const { rows } = await sql.query(
      `SELECT (detail::jsonb->>'fromVersion')::integer AS version, count(*) AS count FROM ${this.t.auditEntries}
       WHERE key_id = $1 AND operation = 'rewrap' AND outcome = 'success' AND detail::jsonb ? 'fromVersion' GROUP BY 1`,
      [keyId],
    );
    return new Map((rows as { version: number; count: string }[]).map((row) => [toNumber(row.version), toNumber(row.count)]));
  }
}

const whereClause = (where: readonly string[]): string => (where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`);

function conditions(filter: AuditFilter, params: Params): string[] {
  const where: string[] = [];
  const equal: [keyof AuditFilter, string, string][] = [
    ['tenantId', 'tenant_id', '='],
    ['keyId', 'key_id', '='],
    ['version', 'version', '='],
    ['principal', 'actor', '='],
    ['operation', 'operation', '='],
    ['outcome', 'outcome', '='],
    ['from', 'recorded_at', '>='],
    ['to', 'recorded_at', '<'],
  ];
  for (const [field, column, operator] of equal) {
    const value = filter[field];
    if (value !== undefined) where.push(`${column} ${operator} ${params.add(value)}`);
  }
  if (filter.operations !== undefined) where.push(`operation = ANY(${params.add([...filter.operations])}::text[])`);
  return where;
}
