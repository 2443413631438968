/** The schema keyledger uses unless told otherwise; one database can hold several keyledgers. */
export const DEFAULT_SCHEMA = 'keyledger';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Schema-qualified, quoted table names: the only identifiers interpolated into SQL text. */
export interface TableNames {
  readonly schema: string;
  readonly quotedSchema: string;
  readonly migrations: string;
  readonly events: string;
  readonly logHead: string;
  readonly idempotency: string;
  readonly keyMaterial: string;
}

export function tableNames(schema: string = DEFAULT_SCHEMA): TableNames {
  // Identifiers cannot be bound as parameters, so the schema name is checked before it enters SQL.
  if (!IDENTIFIER.test(schema)) {
    throw new RangeError(`PostgreSQL schema name "${schema}" must be lower-case letters, digits and _, at most 63`);
  }
  const quotedSchema = `"${schema}"`;
  const table = (name: string) => `${quotedSchema}."${name}"`;
  return {
    schema,
    quotedSchema,
    migrations: table('schema_migrations'),
    events: table('events'),
    logHead: table('log_head'),
    idempotency: table('idempotency'),
    keyMaterial: table('key_material'),
  };
}
