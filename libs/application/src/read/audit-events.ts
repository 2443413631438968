import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  auditCursorOf,
  readAuditCursor,
  toPage,
  type AuditEntry,
  type AuditFilter,
  type AuditOrder,
  type AuditQuery,
  type Page,
} from '@keyledger/read-models';
import type { Actor } from '../shared/context.js';
import { ReadSideService } from './read-side.service.js';
import { visibleTenant } from './tenant-scope.js';

export interface AuditEventsFilter extends Omit<AuditFilter, 'operations'> {
  order: AuditOrder;
  cursor?: string;
}

/** A page of the 164.312(b) audit view. */
export class AuditEventsQuery {
  constructor(readonly actor: Actor, readonly filter: AuditEventsFilter & { limit: number }) {}
}

/** Every entry matching the filter (from the cursor on, up to `limit` if given), for CSV and JSON Lines exports. */
export class ExportAuditEventsQuery {
  constructor(readonly actor: Actor, readonly filter: AuditEventsFilter & { limit?: number }) {}
}

const EXPORT_PAGE = 1_000;

/** The query a filter means for this actor, or null when the actor may see none of it. */
function scopedQuery(actor: Actor, filter: AuditEventsFilter, limit: number): AuditQuery | null {
  const { cursor, ...criteria } = filter;
  const scope = visibleTenant(actor, criteria.tenantId);
  if (scope === null) return null;
  const after = cursor === undefined ? undefined : readAuditCursor(cursor, filter.order);
  return {
    ...criteria,
    ...scope,
    // Recording times are compared in their canonical form (an offset like +02:00 becomes Z).
    ...(criteria.from === undefined ? {} : { from: new Date(criteria.from).toISOString() }),
    ...(criteria.to === undefined ? {} : { to: new Date(criteria.to).toISOString() }),
    limit,
    ...(after === undefined ? {} : { after }),
  };
}

@QueryHandler(AuditEventsQuery)
export class AuditEventsHandler implements IQueryHandler<AuditEventsQuery, Page<AuditEntry>> {
  constructor(private readonly readSide: ReadSideService) {}

  async execute({ actor, filter }: AuditEventsQuery): Promise<Page<AuditEntry>> {
    const query = scopedQuery(actor, filter, filter.limit + 1);
    if (query === null) return { items: [], nextCursor: null };
    await this.readSide.caughtUp(['audit']);
    const rows = await this.readSide.storage.audit.list(query);
    return toPage(rows, filter.limit, (entry) => entry, (entry) => auditCursorOf(entry, filter.order));
  }
}

@QueryHandler(ExportAuditEventsQuery)
export class ExportAuditEventsHandler implements IQueryHandler<ExportAuditEventsQuery, AsyncIterable<AuditEntry[]>> {
  constructor(private readonly readSide: ReadSideService) {}

  /** Checks the filter and catches up before the first byte is sent; then streams page by page. */
  async execute({ actor, filter }: ExportAuditEventsQuery): Promise<AsyncIterable<AuditEntry[]>> {
    const first = scopedQuery(actor, filter, EXPORT_PAGE);
    if (first !== null) await this.readSide.caughtUp(['audit']);
    return this.pages(first, filter.limit ?? Number.POSITIVE_INFINITY);
  }

  private async *pages(query: AuditQuery | null, limit: number): AsyncGenerator<AuditEntry[]> {
    let remaining = limit;
    let next = query;
    while (next !== null && remaining > 0) {
      const page = await this.readSide.storage.audit.list({ ...next, limit: Math.min(EXPORT_PAGE, remaining) });
      if (page.length === 0) return;
      yield page;
      remaining -= page.length;
      const last = page[page.length - 1]!;
      next = page.length < next.limit ? null : { ...next, after: auditCursorOf(last, next.order) };
    }
  }
}
