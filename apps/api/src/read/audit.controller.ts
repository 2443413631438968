import { Readable } from 'node:stream';
import { Controller, Get, Headers, Query, StreamableFile } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AuditEventsQuery, ExportAuditEventsQuery, type RequestContext } from '@keyledger/application';
import { InvalidInputError } from '@keyledger/domain';
import {
  AUDIT_MEDIA_TYPES,
  csvHeader,
  csvLine,
  jsonLine,
  type AuditEntry,
  type AuditExportFormat,
  type Page,
} from '@keyledger/read-models';
import { Ctx, Roles } from '../http/request.js';
import { Validate } from '../http/validation.js';
import { auditEventsQuerySchema } from './read-schemas.js';

type AuditEventsParams = z.infer<typeof auditEventsQuerySchema>;

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1_000;

/** `?format=` wins; otherwise the Accept header may ask for CSV or JSON Lines; JSON by default. */
const formatOf = (format: AuditEventsParams['format'], accept: string | undefined): AuditExportFormat | 'json' => {
  if (format) return format;
  const wanted = (accept ?? '').toLowerCase();
  if (wanted.includes('text/csv')) return 'csv';
  if (/application\/(x-ndjson|jsonl|x-jsonlines)/.test(wanted)) return 'jsonl';
  return 'json';
};

async function* exportLines(pages: AsyncIterable<AuditEntry[]>, format: AuditExportFormat): AsyncGenerator<string> {
  if (format === 'csv') yield csvHeader();
  for await (const page of pages) yield page.map(format === 'csv' ? csvLine : jsonLine).join('');
}

/** The 45 CFR 164.312(b) audit view: who did what to which key, when, with what outcome. */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditEventsController {
  constructor(private readonly queries: QueryBus) {}

  @Get('events')
  @Roles('auditor', 'key-admin', 'operator', 'service')
  @ApiOperation({
    summary: 'Audit entries (lifecycle commands, uses, denials, governance), filtered and paged',
    description:
      'Filters: from, to (recording time), tenantId, keyId, version, principal, operation, outcome (success|denied|failed); ' +
      'order asc|desc; limit and cursor page the JSON answer { items, nextCursor }. ' +
      '?format=csv|jsonl (or Accept: text/csv / application/x-ndjson) exports every matching entry instead. ' +
      'A service principal sees its own tenant only.',
  })
  @ApiProduces('application/json', 'text/csv', 'application/x-ndjson')
  async list(
    @Query(new Validate(auditEventsQuerySchema, 'query')) q: AuditEventsParams,
    @Headers('accept') accept: string | undefined,
    @Ctx() ctx: RequestContext,
  ): Promise<Page<AuditEntry> | StreamableFile> {
    const { format, limit, ...filter } = q;
    const chosen = formatOf(format, accept);
    if (chosen === 'json') {
      if (limit !== undefined && limit > MAX_PAGE) throw new InvalidInputError(`limit must be at most ${MAX_PAGE} for JSON pages`, { field: 'limit' });
      return this.queries.execute(new AuditEventsQuery(ctx.actor, { ...filter, limit: limit ?? DEFAULT_PAGE }));
    }
    const pages: AsyncIterable<AuditEntry[]> = await this.queries.execute(
      new ExportAuditEventsQuery(ctx.actor, { ...filter, ...(limit === undefined ? {} : { limit }) }),
    );
    return new StreamableFile(Readable.from(exportLines(pages, chosen)), {
      type: AUDIT_MEDIA_TYPES[chosen],
      disposition: `attachment; filename="audit-events.${chosen}"`,
    });
  }
}
