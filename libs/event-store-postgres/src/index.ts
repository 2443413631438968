export { PostgresDatabase, type PostgresDatabaseOptions } from './postgres-database.js';
export { PostgresEventStore, type PostgresEventStoreOptions, type PostgresEventStoreStats } from './postgres-event-store.js';
export { PostgresIdempotencyStore } from './postgres-idempotency-store.js';
export { PostgresMaterialStore } from './postgres-material-store.js';
export { SchemaTooNewError } from './migrations.js';
export { DEFAULT_SCHEMA } from './table-names.js';
