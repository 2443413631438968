import { InvalidInputError } from './errors.js';

/**
 * Instants in the domain are ISO-8601 strings in UTC that arrive with commands; the domain never
 * reads a clock. Comparisons go through epoch milliseconds because two valid ISO strings for the
 * same instant (offsets, fractional seconds) do not compare correctly as text.
 */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export const MILLIS_PER_DAY = 86_400_000;

/** Epoch milliseconds of an ISO-8601 instant; refuses loose formats that `Date.parse` would guess at. */
export function instantMillis(iso: string, field = 'now'): number {
  const millis = typeof iso === 'string' && ISO_INSTANT.test(iso) ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(millis)) {
    throw new InvalidInputError(`${field} must be an ISO-8601 instant with a time zone, got ${String(iso)}`, {
      field,
    });
  }
  return millis;
}

/** `iso` plus whole days counted in UTC milliseconds (no calendar or DST arithmetic). */
export function addDays(iso: string, days: number, field = 'now'): string {
  return new Date(instantMillis(iso, field) + days * MILLIS_PER_DAY).toISOString();
}


/** The canonical form (`toISOString`) of an instant given by a caller, e.g. `+02:00` → `Z`. */
export function normalizeInstant(iso: string, field = 'now'): string {
  return new Date(instantMillis(iso, field)).toISOString();
}
