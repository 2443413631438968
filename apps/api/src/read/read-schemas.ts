import { z } from 'zod';
import { AUDIT_ORDERS, AUDIT_OUTCOMES, RULE_IDS } from '@keyledger/read-models';
import { keyIdSchema } from '../keys/schemas.js';

/** Queries of the read routes. Unknown parameters are refused, like everywhere else. */
const instant = z.iso.datetime({ offset: true });
const name = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');

export const AUDIT_FORMATS = ['json', 'csv', 'jsonl'] as const;

export const auditEventsQuerySchema = z.strictObject({
  from: instant.optional(),
  to: instant.optional(),
  tenantId: keyIdSchema.optional(),
  keyId: keyIdSchema.optional(),
  version: z.coerce.number().int().min(1).max(1_000_000).optional(),
  principal: name.optional(),
  operation: z.string().min(1).max(64).regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and - only').optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  order: z.enum(AUDIT_ORDERS).default('asc'),
  /** Page size for JSON (default 100); for an export, the most entries exported (default all). */
  limit: z.coerce.number().int().min(1).optional(),
  cursor: z.string().min(1).max(512).optional(),
  format: z.enum(AUDIT_FORMATS).optional(),
});

export const complianceQuerySchema = z.strictObject({
  tenantId: keyIdSchema.optional(),
  rule: z.enum(RULE_IDS).optional(),
  /** Most findings listed, most severe first (the summary counts them all). */
  limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
});

export const noQuerySchema = z.strictObject({});
