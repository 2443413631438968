import type { AuditEntry } from './audit-entry.js';

/** Export formats of the audit view: CSV (RFC 4180) for spreadsheets, JSON Lines for tools. */
export const AUDIT_EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

export const AUDIT_MEDIA_TYPES: Readonly<Record<AuditExportFormat, string>> = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
};

const CSV_COLUMNS = [
  'position',
  'recordedAt',
  'actor',
  'tenantId',
  'keyId',
  'version',
  'operation',
  'outcome',
  'correlationId',
  'eventType',
  'eventId',
  'detail',
] as const satisfies readonly (keyof AuditEntry)[];

export const csvHeader = (): string => `${CSV_COLUMNS.join(',')}\r\n`;

export const csvLine = (entry: AuditEntry): string =>
  `${CSV_COLUMNS.map((column) => csvField(column === 'detail' ? JSON.stringify(entry.detail) : entry[column])).join(',')}\r\n`;

export const jsonLine = (entry: AuditEntry): string => `${JSON.stringify(entry)}\n`;

/**
 * RFC 4180 quoting. A text cell that a spreadsheet would read as a formula (leading = + - @ or a
 * control character) is prefixed with an apostrophe, so that opening an export runs nothing.
 */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n']/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
