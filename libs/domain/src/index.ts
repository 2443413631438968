/** Public surface of the pure key domain: vocabulary, events, commands, state, rules, errors. */
export * from './errors.js';
export * from './time.js';
export * from './key/types.js';
export * from './key/events.js';
export * from './key/commands.js';
export * from './key/state.js';
export * from './key/transitions.js';
export * from './key/policy.js';
export * from './key/versions.js';
export * from './key/usage.js';
export { assertValidParent } from './key/generate.js';
export { KEY_COMMAND_NAMES, assertCanDestroy, decideKey } from './key/decider.js';
export { evolveKey, foldKey } from './key/evolve.js';
export * from './approval/approval.js';
export { decideApproval, evolveApproval, foldApproval } from './approval/decider.js';
export * from './ceremony/ceremony.js';
export * from './canonical-json.js';
