export * from './port.js';
export { assertExpectedRevision, type StreamRevision } from './expected-revision.js';
export { InProcessNotifier } from './in-process-notifier.js';
export { startCatchUpSubscription, type CatchUpSettings } from './catch-up-subscription.js';
// contract.ts is deliberately not exported here: it calls jest, and spec files import it by path.
export { serializeEvent, type SerializedEvent } from './serialized-event.js';
export { SubscriptionSet } from './subscription-set.js';
export { toIdempotencyRecord, type IdempotencyRow } from './idempotency-row.js';
