export * from './events.js';
export * from './key-hierarchy.js';
export * from './plan.js';
export * from './dek-rewrap-job.js';
export * from './dek-rewrap-worker.js';
