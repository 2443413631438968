export { EsdbEventStore, type EsdbEventStoreOptions } from './esdb-event-store.js';
export { DEFAULT_STREAM_PREFIX } from './esdb-mapping.js';
export { StoreTimeoutError } from './with-timeout.js';
