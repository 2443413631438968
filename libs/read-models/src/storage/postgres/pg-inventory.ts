import { SENSITIVE_CLASSES } from '../../compliance/candidates.js';
import { inventoryColumns, isFullyDestroyed, lacksDestructionEvidence, type InventoryKeyDocument } from '../../inventory/inventory-document.js';
import { NO_ROTATION_DUE, sortField, type InventoryKeyState, type InventoryQuery } from '../../inventory/inventory-query.js';
import type { InventoryChange } from '../port.js';
import { Params, type PgQueryable, type ReadModelTables } from './pg-sql.js';

const COLUMNS = 'tenant_id, purpose, custodian, state, compromised, created_at, rotation_due, parent_key_id, classifications, vendors';
const SORT_COLUMNS = { createdAt: 'created_at', rotationDueAt: 'rotation_due', tenantId: 'tenant_id' } as const;

/** One array per column, for `unnest` inserts: a batch is a few statements, not a few per row. */
const columnArrays = (docs: readonly InventoryKeyDocument[]) => {
  const columns = docs.map((doc) => inventoryColumns(doc));
  return [
    columns.map((c) => c.tenantId),
    columns.map((c) => c.purpose),
    columns.map((c) => c.custodian),
    columns.map((c) => c.state),
    columns.map((c) => c.compromised),
    columns.map((c) => c.createdAt),
    columns.map((c) => c.rotationDueAt ?? NO_ROTATION_DUE),
    columns.map((c) => c.parentKeyId),
    columns.map((c) => JSON.stringify(c.classifications)),
    columns.map((c) => JSON.stringify(c.vendors)),
  ];
};

const COLUMN_TYPES = 'text[], text[], text[], text[], boolean[], text[], text[], text[], text[], text[]';
const selectColumns = (offset: number) =>
  COLUMNS.split(', ')
    .map((column, index) => (column === 'classifications' || column === 'vendors' ? `u.c${index + offset}::jsonb` : `u.c${index + offset}`))
    .join(', ');
const unnestOf = (first: number, types: string) =>
  `unnest(${types
    .split(', ')
    .map((type, index) => `$${first + index}::${type}`)
    .join(', ')}) AS u(${types
    .split(', ')
    .map((_, index) => `c${first + index}`)
    .join(', ')})`;

export class PgInventory {
  constructor(private readonly t: ReadModelTables) {}

  /**
   * Each document closes its key's previous interval and opens its own. Intervals inside the batch
   * are closed in memory; the interval each key had open before the batch is closed by one UPDATE.
   */
  async write(sql: PgQueryable, changes: readonly InventoryChange[]): Promise<void> {
    if (changes.length === 0) return;
    const latest = [...new Map(changes.map(({ doc }) => [doc.key.keyId, doc])).values()];
    const docs = changes.filter((change) => change.opensInterval).map((change) => change.doc);
    if (docs.length > 0) await this.writeIntervals(sql, docs);
    const updates = COLUMNS.split(', ')
      .map((column) => `${column} = EXCLUDED.${column}`)
      .join(', ');
    await sql.query(
      `INSERT INTO ${this.t.inventoryCurrent} (key_id, ${COLUMNS}, live, lacks_evidence, document)
       SELECT u.c1, ${selectColumns(2)}, u.c12, u.c13, u.c14 FROM ${unnestOf(1, `text[], ${COLUMN_TYPES}, boolean[], boolean[], text[]`)}
       ON CONFLICT (key_id) DO UPDATE SET ${updates}, live = EXCLUDED.live, lacks_evidence = EXCLUDED.lacks_evidence, document = EXCLUDED.document`,
      [
        latest.map((d) => d.key.keyId),
        ...columnArrays(latest),
        latest.map((d) => !isFullyDestroyed(d.key)),
        latest.map(lacksDestructionEvidence),
        latest.map((d) => JSON.stringify(d)),
      ],
    );
  }

  private async writeIntervals(sql: PgQueryable, docs: readonly InventoryKeyDocument[]): Promise<void> {
    const { next, firstOfKey } = intervals(docs);
    await sql.query(
      `UPDATE ${this.t.inventoryHistory} h SET valid_to_position = u.position, valid_to = u.valid_from
       FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(key_id, position, valid_from)
       WHERE h.key_id = u.key_id AND h.valid_to_position IS NULL`,
      [firstOfKey.map((d) => d.key.keyId), firstOfKey.map((d) => d.position), firstOfKey.map((d) => d.validFrom)],
    );
    await sql.query(
      `INSERT INTO ${this.t.inventoryHistory} (key_id, valid_from_position, valid_from, valid_to_position, valid_to, ${COLUMNS}, state_document)
       SELECT u.c1, u.c2, u.c3, u.c4, u.c5, ${selectColumns(6)}, u.c16
       FROM ${unnestOf(1, `text[], bigint[], text[], bigint[], text[], ${COLUMN_TYPES}, text[]`)}`,
      [
        docs.map((d) => d.key.keyId),
        docs.map((d) => d.position),
        docs.map((d) => d.validFrom),
        next.map((n) => n?.position ?? null),
        next.map((n) => n?.validFrom ?? null),
        ...columnArrays(docs),
        docs.map((d) => JSON.stringify({ key: d.key, revision: d.revision })),
      ],
    );
  }

  async current(sql: PgQueryable, keyIds: readonly string[]): Promise<Map<string, InventoryKeyDocument>> {
    if (keyIds.length === 0) return new Map();
    const { rows } = await sql.query(`SELECT document FROM ${this.t.inventoryCurrent} WHERE key_id = ANY($1::text[])`, [[...new Set(keyIds)]]);
    return new Map(rows.map((row) => parseDocument(row)).map((doc) => [doc.key.keyId, doc]));
  }

  async list(sql: PgQueryable, query: InventoryQuery): Promise<InventoryKeyState[]> {
    const params = new Params();
    const where = conditions(query, params);
    const column = SORT_COLUMNS[sortField(query.sort)];
    const direction = query.sort.startsWith('-') ? 'DESC' : 'ASC';
    if (query.after) {
      where.push(`(${column}, key_id) ${direction === 'ASC' ? '>' : '<'} (${params.add(query.after.value)}, ${params.add(query.after.keyId)})`);
    }
    const [table, document] = query.at ? [this.t.inventoryHistory, 'state_document'] : [this.t.inventoryCurrent, 'document'];
    const { rows } = await sql.query(
      `SELECT ${document} AS document FROM ${table} ${whereClause(where)}
       ORDER BY ${column} ${direction}, key_id ${direction} LIMIT ${params.add(query.limit)}`,
      params.values,
    );
    return rows.map((row) => {
      const { key, revision } = JSON.parse((row as { document: string }).document) as InventoryKeyState;
      return { key, revision };
    });
  }

  async all(sql: PgQueryable, tenantId?: string): Promise<InventoryKeyDocument[]> {
    const { rows } = await sql.query(
      `SELECT document FROM ${this.t.inventoryCurrent} ${tenantId === undefined ? '' : 'WHERE tenant_id = $1'} ORDER BY created_at, key_id`,
      tenantId === undefined ? [] : [tenantId],
    );
    return rows.map(parseDocument);
  }

  async complianceCandidates(sql: PgQueryable, now: string, tenantId?: string): Promise<InventoryKeyDocument[]> {
    const t = this.t.inventoryCurrent;
    const { rows } = await sql.query(
      `SELECT document FROM ${t}
       WHERE ($2::text IS NULL OR tenant_id = $2) AND (
         rotation_due <= $1
         OR purpose = 'root'
         OR compromised
         OR parent_key_id IN (SELECT key_id FROM ${t} WHERE compromised)
         OR lacks_evidence
         OR (live AND classifications = '[]'::jsonb)
         OR (live AND vendors <> '[]'::jsonb)
         OR (live AND custodian = 'software' AND classifications ?| $3::text[])
         OR (live AND purpose = 'dek' AND tenant_id NOT IN (SELECT tenant_id FROM ${t} WHERE purpose = 'kek' AND state = 'active')))
       ORDER BY created_at, key_id`,
      [now, tenantId ?? null, [...SENSITIVE_CLASSES]],
    );
    return rows.map(parseDocument);
  }

  async tenantsWithActiveKek(sql: PgQueryable): Promise<string[]> {
    const { rows } = await sql.query(`SELECT DISTINCT tenant_id FROM ${this.t.inventoryCurrent} WHERE purpose = 'kek' AND state = 'active'`, []);
    return rows.map((row) => (row as { tenant_id: string }).tenant_id);
  }

  async children(sql: PgQueryable, parentKeyIds: readonly string[]): Promise<InventoryKeyDocument[]> {
    if (parentKeyIds.length === 0) return [];
    const { rows } = await sql.query(
      `SELECT document FROM ${this.t.inventoryCurrent} WHERE parent_key_id = ANY($1::text[]) ORDER BY created_at, key_id`,
      [[...new Set(parentKeyIds)]],
    );
    return rows.map(parseDocument);
  }
}

/** For each document, the next state of its key in the batch (which ends its interval); and each key's first. */
function intervals(docs: readonly InventoryKeyDocument[]): { next: (InventoryKeyDocument | null)[]; firstOfKey: InventoryKeyDocument[] } {
  const later = new Map<string, InventoryKeyDocument>();
  const next = docs.map(() => null as InventoryKeyDocument | null);
  for (let index = docs.length - 1; index >= 0; index -= 1) {
    const doc = docs[index]!;
    next[index] = later.get(doc.key.keyId) ?? null;
    later.set(doc.key.keyId, doc);
  }
  return { next, firstOfKey: [...later.values()] };
}

const parseDocument = (row: unknown): InventoryKeyDocument => JSON.parse((row as { document: string }).document) as InventoryKeyDocument;

const whereClause = (where: readonly string[]): string => (where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`);

function conditions(query: InventoryQuery, params: Params): string[] {
  const where: string[] = [];
  if (query.at !== undefined) {
    const at = params.add(query.at);
    where.push(`valid_from <= ${at} AND (valid_to IS NULL OR valid_to > ${at})`);
  }
  if (query.tenantId !== undefined) where.push(`tenant_id = ${params.add(query.tenantId)}`);
  if (query.purpose !== undefined) where.push(`purpose = ${params.add(query.purpose)}`);
  if (query.state !== undefined) where.push(`state = ${params.add(query.state)}`);
  if (query.custodian !== undefined) where.push(`custodian = ${params.add(query.custodian)}`);
  if (query.classification !== undefined) where.push(`classifications @> jsonb_build_array(${params.add(query.classification)}::text)`);
  if (query.vendor !== undefined) where.push(`vendors @> jsonb_build_array(${params.add(query.vendor)}::text)`);
  if (query.rotationDueBefore !== undefined) where.push(`rotation_due < ${params.add(query.rotationDueBefore)}`);
  if (query.compromised !== undefined) where.push(`compromised = ${params.add(query.compromised)}`);
  return where;
}
