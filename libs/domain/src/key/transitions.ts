import type { KeyVersionState } from './types.js';

/**
 * NIST SP 800-57 Part 1 Rev. 5 §7 state transitions of a key version (SPEC §3). The table is the
 * single source of truth: every lifecycle guard in the decider asks `canTransition`.
 * A destroyed version never leaves `destroyed`; a later compromise report only sets its
 * `compromised` flag (KMIP's Destroyed Compromised), which is not a state transition.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<KeyVersionState, readonly KeyVersionState[]>> = {
  'pre-activation': ['active', 'compromised', 'destroyed'],
  active: ['suspended', 'deactivated', 'compromised'],
  suspended: ['active', 'deactivated', 'compromised'],
  deactivated: ['compromised', 'destroyed'],
  compromised: ['destroyed'],
  destroyed: [],
};

export function canTransition(from: KeyVersionState, to: KeyVersionState): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}
