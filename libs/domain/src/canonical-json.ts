/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, JSON.stringify's number
 * and string forms (which RFC 8785 adopts for finite numbers and strings). Used wherever bytes
 * must be reproducible from a value: transcripts that witnesses sign, request fingerprints.
 */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON has no form for non-finite numbers');
  return JSON.stringify(value) ?? 'null';
};
