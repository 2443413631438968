export { SqliteEventStore, type SqliteEventStoreOptions, type SqliteEventStoreStats } from './sqlite-event-store.js';
export { SqliteIdempotencyStore } from './sqlite-idempotency-store.js';
export type { SqliteDatabase } from './sqlite-database.js';
