import type { ComplianceFact, ComplianceFactKind, ComplianceKeyDocument } from '../../compliance/compliance-facts.js';
import type { ReadModelDatabase } from './sqlite-database.js';
import { StatementCache } from './statement-cache.js';

/** The compliance projection's own state: the keys' states, and the facts the rules read. */
export class ComplianceTable {
  private readonly upsertKey;
  private readonly insertFact;
  private readonly statements: StatementCache;

  constructor(database: ReadModelDatabase) {
    this.statements = new StatementCache(database);
    this.upsertKey = database.prepare(
      `INSERT INTO compliance_keys (key_id, document) VALUES (?, ?)
       ON CONFLICT (key_id) DO UPDATE SET document = excluded.document`,
    );
    this.insertFact = database.prepare(
      'INSERT INTO compliance_facts (kind, position, tenant_id, key_id, document) VALUES (?, ?, ?, ?, ?)',
    );
  }

  write(keys: readonly ComplianceKeyDocument[], facts: readonly ComplianceFact[]): void {
    for (const doc of keys) this.upsertKey.run(doc.key.keyId, JSON.stringify(doc));
    for (const fact of facts) this.insertFact.run(fact.kind, fact.position, fact.tenantId, fact.keyId, JSON.stringify(fact));
  }

  keys(keyIds: readonly string[]): Map<string, ComplianceKeyDocument> {
    const unique = [...new Set(keyIds)];
    const found = new Map<string, ComplianceKeyDocument>();
    for (let start = 0; start < unique.length; start += 500) {
      const chunk = unique.slice(start, start + 500);
      const sql = `SELECT document FROM compliance_keys WHERE key_id IN (${chunk.map(() => '?').join(', ')})`;
      for (const row of this.statements.all<{ document: string }>(sql, chunk)) {
        const doc = JSON.parse(row.document) as ComplianceKeyDocument;
        found.set(doc.key.keyId, doc);
      }
    }
    return found;
  }

  facts(kind: ComplianceFactKind, tenantId?: string): ComplianceFact[] {
    const sql = `SELECT document FROM compliance_facts WHERE kind = @kind ${tenantId === undefined ? '' : 'AND tenant_id = @tenantId'} ORDER BY position`;
    return this.statements
      .all<{ document: string }>(sql, tenantId === undefined ? { kind } : { kind, tenantId })
      .map((row) => JSON.parse(row.document) as ComplianceFact);
  }
}
