/**
 * RFC 8785 JSON Canonicalization Scheme (JCS) for the JSON values an event can hold: object
 * members sorted by their names' UTF-16 code units, no whitespace, strings escaped and numbers
 * written as ECMAScript's JSON.stringify writes them (RFC 8785 §3.2.2.2 and §3.2.2.3 adopt that
 * serialization). Members whose value is `undefined` are left out, as JSON.stringify does.
 *
 * Every event is canonicalized when it is sealed and again when it is verified, so this is on the
 * hot path of `audit verify`: plain string building, and no escaping work for plain strings.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return canonicalString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${value} has no JSON form`);
      // Number::toString, as JSON.stringify uses it; it writes -0 as "0", as RFC 8785 requires.
      return String(value);
    case 'object':
      return Array.isArray(value) ? canonicalArray(value) : canonicalObject(value as Record<string, unknown>);
    default:
      throw new TypeError(`A ${typeof value} has no JSON form`);
  }
}

/** Printable ASCII without `"` and `\`: written as is. Anything else goes through JSON.stringify's escaping. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

const canonicalString = (text: string): string => (text.length <= 128 && PLAIN.test(text) ? `"${text}"` : JSON.stringify(text));

function canonicalArray(items: readonly unknown[]): string {
  let out = '[';
  for (let i = 0; i < items.length; i += 1) {
    if (i > 0) out += ',';
    // Holes and undefined items are null in JSON arrays.
    out += items[i] === undefined ? 'null' : canonicalJson(items[i]);
  }
  return `${out}]`;
}

function canonicalObject(object: Record<string, unknown>): string {
  // Array.prototype.sort without a comparator orders by UTF-16 code units: RFC 8785 §3.2.3.
  const names = Object.keys(object).sort();
  let out = '{';
  for (const name of names) {
    const member = object[name];
    if (member === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${canonicalString(name)}:${canonicalJson(member)}`;
  }
  return `${out}}`;
}
