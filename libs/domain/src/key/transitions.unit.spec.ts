import { ALLOWED_TRANSITIONS, KEY_VERSION_STATES, canTransition, type KeyVersionState } from '../index.js';

/** SPEC §3, written out pair by pair so that any edit of the table breaks a named case. */
const EXPECTED: Record<KeyVersionState, KeyVersionState[]> = {
  'pre-activation': ['active', 'compromised', 'destroyed'],
  active: ['suspended', 'deactivated', 'compromised'],
  suspended: ['active', 'deactivated', 'compromised'],
  deactivated: ['compromised', 'destroyed'],
  compromised: ['destroyed'],
  destroyed: [],
};

describe('SP 800-57 transition table', () => {
  const pairs = KEY_VERSION_STATES.flatMap((from) => KEY_VERSION_STATES.map((to) => ({ from, to })));

  it.each(pairs)('$from → $to', ({ from, to }) => {
    expect(canTransition(from, to)).toBe(EXPECTED[from].includes(to));
  });

  it('has a row for every state and no self-transitions', () => {
    expect(Object.keys(ALLOWED_TRANSITIONS).sort()).toEqual([...KEY_VERSION_STATES].sort());
    for (const state of KEY_VERSION_STATES) expect(canTransition(state, state)).toBe(false);
  });
});
