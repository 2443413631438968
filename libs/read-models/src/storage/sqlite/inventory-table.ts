import { SENSITIVE_CLASSES } from '../../compliance/candidates.js';
import { inventoryColumns, isFullyDestroyed, lacksDestructionEvidence, type InventoryKeyDocument } from '../../inventory/inventory-document.js';
import {
  NO_ROTATION_DUE,
  sortField,
  type InventoryFilter,
  type InventoryKeyState,
  type InventoryQuery,
} from '../../inventory/inventory-query.js';
import type { InventoryChange } from '../port.js';
import type { ReadModelDatabase } from './sqlite-database.js';
import { StatementCache } from './statement-cache.js';

const COLUMNS = 'tenant_id, purpose, custodian, state, compromised, created_at, rotation_due, parent_key_id, classifications, vendors';
const VALUES = '@tenantId, @purpose, @custodian, @state, @compromised, @createdAt, @rotationDue, @parentKeyId, @classifications, @vendors';

const SORT_COLUMNS = { createdAt: 'created_at', rotationDueAt: 'rotation_due', tenantId: 'tenant_id' } as const;

const columnValues = (doc: InventoryKeyDocument) => {
  const c = inventoryColumns(doc);
  return {
    keyId: c.keyId,
    tenantId: c.tenantId,
    purpose: c.purpose,
    custodian: c.custodian,
    state: c.state,
    compromised: c.compromised ? 1 : 0,
    createdAt: c.createdAt,
    rotationDue: c.rotationDueAt ?? NO_ROTATION_DUE,
    parentKeyId: c.parentKeyId,
    classifications: JSON.stringify(c.classifications),
    vendors: JSON.stringify(c.vendors),
  };
};

/**
 * The inventory: `inventory_current` holds each key's latest document, `inventory_history` every
 * state each key went through as an interval of validity, which answers `?at=` with one indexed
 * query instead of a fold of the log.
 */
export class InventoryTable {
  private readonly upsertCurrent;
  private readonly closeHistory;
  private readonly insertHistory;
  private readonly statements: StatementCache;

  constructor(database: ReadModelDatabase) {
    this.statements = new StatementCache(database);
    this.upsertCurrent = database.prepare(
      `INSERT INTO inventory_current (key_id, ${COLUMNS}, live, lacks_evidence, document)
       VALUES (@keyId, ${VALUES}, @live, @lacksEvidence, @document)
       ON CONFLICT (key_id) DO UPDATE SET ${COLUMNS.split(', ')
         .map((column) => `${column} = excluded.${column}`)
         .join(', ')}, live = excluded.live, lacks_evidence = excluded.lacks_evidence, document = excluded.document`,
    );
    this.closeHistory = database.prepare(
      `UPDATE inventory_history SET valid_to_position = @position, valid_to = @validFrom
       WHERE key_id = @keyId AND valid_to_position IS NULL`,
    );
    this.insertHistory = database.prepare(
      `INSERT INTO inventory_history (key_id, valid_from_position, valid_from, ${COLUMNS}, state_document)
       VALUES (@keyId, @position, @validFrom, ${VALUES}, @stateDocument)`,
    );
  }

  /**
   * A change that opens an interval closes the key's previous one and starts its own; the last
   * document of each key becomes current.
   */
  write(changes: readonly InventoryChange[]): void {
    const latest = new Map<string, InventoryKeyDocument>();
    for (const { doc, opensInterval } of changes) {
      latest.set(doc.key.keyId, doc);
      if (!opensInterval) continue;
      const values = { ...columnValues(doc), position: doc.position, validFrom: doc.validFrom };
      this.closeHistory.run({ keyId: values.keyId, position: doc.position, validFrom: doc.validFrom });
      this.insertHistory.run({ ...values, stateDocument: JSON.stringify({ key: doc.key, revision: doc.revision }) });
    }
    for (const doc of latest.values()) {
      const compliance = { live: isFullyDestroyed(doc.key) ? 0 : 1, lacksEvidence: lacksDestructionEvidence(doc) ? 1 : 0 };
      this.upsertCurrent.run({ ...columnValues(doc), ...compliance, document: JSON.stringify(doc) });
    }
  }

  current(keyIds: readonly string[]): Map<string, InventoryKeyDocument> {
    const found = new Map<string, InventoryKeyDocument>();
    for (const chunk of chunks(keyIds)) {
      const sql = `SELECT document FROM inventory_current WHERE key_id IN (${chunk.map(() => '?').join(', ')})`;
      for (const row of this.statements.all<{ document: string }>(sql, chunk)) {
        const doc = JSON.parse(row.document) as InventoryKeyDocument;
        found.set(doc.key.keyId, doc);
      }
    }
    return found;
  }

  list(query: InventoryQuery): InventoryKeyState[] {
    const { where, params } = conditions(query);
    const column = SORT_COLUMNS[sortField(query.sort)];
    const direction = query.sort.startsWith('-') ? 'DESC' : 'ASC';
    if (query.after) {
      where.push(`(${column}, key_id) ${direction === 'ASC' ? '>' : '<'} (@afterValue, @afterKeyId)`);
      Object.assign(params, { afterValue: query.after.value, afterKeyId: query.after.keyId });
    }
    const [table, document] = query.at ? ['inventory_history', 'state_document'] : ['inventory_current', 'document'];
    const sql = `SELECT ${document} AS document FROM ${table} ${whereClause(where)}
                 ORDER BY ${column} ${direction}, key_id ${direction} LIMIT @limit`;
    return this.statements
      .all<{ document: string }>(sql, { ...params, limit: query.limit })
      .map((row) => {
        const { key, revision } = JSON.parse(row.document) as InventoryKeyState;
        return { key, revision };
      });
  }

  all(tenantId?: string): InventoryKeyDocument[] {
    const sql = `SELECT document FROM inventory_current ${tenantId === undefined ? '' : 'WHERE tenant_id = @tenantId'} ORDER BY created_at, key_id`;
    return this.statements.all<{ document: string }>(sql, tenantId === undefined ? {} : { tenantId }).map(parseDocument);
  }

  complianceCandidates(now: string, tenantId?: string): InventoryKeyDocument[] {
    const sensitive = SENSITIVE_CLASSES.map((c) => `'${c}'`).join(', ');
    const sql = `SELECT document FROM inventory_current c
      WHERE ${tenantId === undefined ? '' : 'tenant_id = @tenantId AND'} (
        rotation_due <= @now
        OR purpose = 'root'
        OR compromised = 1
        OR parent_key_id IN (SELECT key_id FROM inventory_current WHERE compromised = 1)
        OR lacks_evidence = 1
        OR (live = 1 AND classifications = '[]')
        OR (live = 1 AND vendors <> '[]')
        OR (live = 1 AND custodian = 'software' AND EXISTS (SELECT 1 FROM json_each(c.classifications) WHERE value IN (${sensitive})))
        OR (live = 1 AND purpose = 'dek' AND tenant_id NOT IN (SELECT tenant_id FROM inventory_current WHERE purpose = 'kek' AND state = 'active')))
      ORDER BY created_at, key_id`;
    return this.statements.all<{ document: string }>(sql, tenantId === undefined ? { now } : { now, tenantId }).map(parseDocument);
  }

  tenantsWithActiveKek(): string[] {
    return this.statements
      .all<{ tenant_id: string }>("SELECT DISTINCT tenant_id FROM inventory_current WHERE purpose = 'kek' AND state = 'active'", [])
      .map((row) => row.tenant_id);
  }

  children(parentKeyIds: readonly string[]): InventoryKeyDocument[] {
    return chunks(parentKeyIds).flatMap((chunk) =>
      this.statements
        .all<{ document: string }>(
          `SELECT document FROM inventory_current WHERE parent_key_id IN (${chunk.map(() => '?').join(', ')}) ORDER BY created_at, key_id`,
          chunk,
        )
        .map(parseDocument),
    );
  }
}

const parseDocument = (row: { document: string }): InventoryKeyDocument => JSON.parse(row.document) as InventoryKeyDocument;

/** SQLite limits bound parameters per statement; ids are looked up in chunks well below it. */
const chunks = (ids: readonly string[], size = 500): string[][] => {
  const unique = [...new Set(ids)];
  return Array.from({ length: Math.ceil(unique.length / size) }, (_, i) => unique.slice(i * size, (i + 1) * size));
};

const whereClause = (where: readonly string[]): string => (where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`);

function conditions(query: InventoryQuery): { where: string[]; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (query.at !== undefined) {
    where.push('valid_from <= @at AND (valid_to IS NULL OR valid_to > @at)');
    params.at = query.at;
  }
  const equal: [keyof InventoryFilter, string][] = [
    ['tenantId', 'tenant_id'],
    ['purpose', 'purpose'],
    ['state', 'state'],
    ['custodian', 'custodian'],
  ];
  for (const [field, column] of equal) {
    if (query[field] === undefined) continue;
    where.push(`${column} = @${field}`);
    params[field] = query[field];
  }
  if (query.classification !== undefined) {
    where.push('EXISTS (SELECT 1 FROM json_each(classifications) WHERE value = @classification)');
    params.classification = query.classification;
  }
  if (query.vendor !== undefined) {
    where.push('EXISTS (SELECT 1 FROM json_each(vendors) WHERE value = @vendor)');
    params.vendor = query.vendor;
  }
  if (query.rotationDueBefore !== undefined) {
    where.push('rotation_due < @rotationDueBefore');
    params.rotationDueBefore = query.rotationDueBefore;
  }
  if (query.compromised !== undefined) {
    where.push('compromised = @compromised');
    params.compromised = query.compromised ? 1 : 0;
  }
  return { where, params };
}
