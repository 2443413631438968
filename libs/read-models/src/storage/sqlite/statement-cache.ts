import type { Statement } from 'better-sqlite3';
import type { ReadModelDatabase } from './sqlite-database.js';

/** Queries are built from the filters given; each distinct text is prepared once and reused. */
export class StatementCache {
  private readonly prepared = new Map<string, Statement>();

  constructor(private readonly database: ReadModelDatabase) {}

  all<Row>(sql: string, params: readonly unknown[] | Record<string, unknown>): Row[] {
    return this.statement(sql).all(params) as Row[];
  }

  private statement(sql: string): Statement {
    let statement = this.prepared.get(sql);
    if (!statement) {
      statement = this.database.prepare(sql);
      this.prepared.set(sql, statement);
    }
    return statement;
  }
}
