import type { ComplianceFact, ComplianceFactKind, ComplianceKeyDocument } from '../../compliance/compliance-facts.js';
import type { PgQueryable, ReadModelTables } from './pg-sql.js';

export class PgCompliance {
  constructor(private readonly t: ReadModelTables) {}

  async write(sql: PgQueryable, keys: readonly ComplianceKeyDocument[], facts: readonly ComplianceFact[]): Promise<void> {
    if (keys.length > 0) {
      await sql.query(
        `INSERT INTO ${this.t.complianceKeys} (key_id, document) SELECT * FROM unnest($1::text[], $2::text[])
         ON CONFLICT (key_id) DO UPDATE SET document = EXCLUDED.document`,
        [keys.map((k) => k.key.keyId), keys.map((k) => JSON.stringify(k))],
      );
    }
    if (facts.length > 0) {
      await sql.query(
        `INSERT INTO ${this.t.complianceFacts} (kind, position, tenant_id, key_id, document)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[])`,
        [facts.map((f) => f.kind), facts.map((f) => f.position), facts.map((f) => f.tenantId), facts.map((f) => f.keyId), facts.map((f) => JSON.stringify(f))],
      );
    }
  }

  async keys(sql: PgQueryable, keyIds: readonly string[]): Promise<Map<string, ComplianceKeyDocument>> {
    if (keyIds.length === 0) return new Map();
    const { rows } = await sql.query(`SELECT document FROM ${this.t.complianceKeys} WHERE key_id = ANY($1::text[])`, [[...new Set(keyIds)]]);
    const docs = rows.map((row) => JSON.parse((row as { document: string }).document) as ComplianceKeyDocument);
    return new Map(docs.map((doc) => [doc.key.keyId, doc]));
  }

  async facts(sql: PgQueryable, kind: ComplianceFactKind, tenantId?: string): Promise<ComplianceFact[]> {
    const { rows } = await sql.query(
      `SELECT document FROM ${this.t.complianceFacts} WHERE kind = $1 ${tenantId === undefined ? '' : 'AND tenant_id = $2'} ORDER BY position`,
      tenantId === undefined ? [kind] : [kind, tenantId],
    );
    return rows.map((row) => JSON.parse((row as { document: string }).document) as ComplianceFact);
  }
}
