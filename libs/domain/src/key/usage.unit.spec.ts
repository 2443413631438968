import {
  InvalidInputError,
  UsageNotAllowedError,
  VersionNotFoundError,
  checkUsage,
  type Key,
  type KeyEvent,
  type KeyVersionState,
} from '../index.js';
import { day, given, historyTo, plusDays, rotatedEvent, scheduled } from '../../test/key-fixtures.js';

// Version 1 is activated on day 1 with the root policy: it protects until day 731 and processes until day 1826.
const PROTECT_UNTIL = plusDays(day(1), 730);
const PROCESS_UNTIL = plusDays(day(1), 1825);
const NOW = day(20);

const keyIn = (state: KeyVersionState, ...more: KeyEvent[]): Key => {
  const s = given(...historyTo(state), ...more);
  if (s.status !== 'present') throw new Error('expected a key');
  return s.key;
};

describe('protect/process table (SPEC §3)', () => {
  const table: Array<{ state: KeyVersionState; protect: boolean; process: boolean; reason?: RegExp }> = [
    { state: 'pre-activation', protect: false, process: false, reason: /pre-activation/ },
    { state: 'active', protect: true, process: true },
    { state: 'suspended', protect: false, process: false, reason: /suspended/ },
    { state: 'deactivated', protect: false, process: true, reason: /may only process/ },
    { state: 'compromised', protect: false, process: false, reason: /compromised/ },
    { state: 'destroyed', protect: false, process: false, reason: /material is gone/ },
  ];

  describe.each(table)('a $state version', ({ state, protect, process, reason }) => {
    const key = keyIn(state);
    it(protect ? 'protects' : 'refuses to protect', () => {
      if (protect) expect(checkUsage(key, 'protect', NOW).version).toBe(1);
      else {
        expect(() => checkUsage(key, 'protect', NOW)).toThrow(UsageNotAllowedError);
        if (reason) expect(() => checkUsage(key, 'protect', NOW)).toThrow(reason);
      }
    });
    it(process ? 'processes' : 'refuses to process', () => {
      if (process) expect(checkUsage(key, 'process', NOW, 1).version).toBe(1);
      else expect(() => checkUsage(key, 'process', NOW, 1)).toThrow(UsageNotAllowedError);
    });
  });
});

describe('usage periods', () => {
  const active = keyIn('active');

  it('an active version protects until its OUP ends, exclusive', () => {
    expect(checkUsage(active, 'protect', plusDays(PROTECT_UNTIL, -1 / 86_400_000)).version).toBe(1);
    expect(() => checkUsage(active, 'protect', PROTECT_UNTIL)).toThrow(`originator-usage period ended at ${PROTECT_UNTIL}`);
  });

  it('after its OUP, an active version still processes inside its RUP', () => {
    expect(checkUsage(active, 'process', PROTECT_UNTIL, 1).version).toBe(1);
    expect(() => checkUsage(active, 'process', PROCESS_UNTIL, 1)).toThrow(`recipient-usage period ended at ${PROCESS_UNTIL}`);
  });

  it('a deactivated version processes until its RUP ends, never protects', () => {
    const deactivated = keyIn('deactivated');
    expect(checkUsage(deactivated, 'process', plusDays(PROCESS_UNTIL, -1), 1).version).toBe(1);
    expect(() => checkUsage(deactivated, 'process', PROCESS_UNTIL, 1)).toThrow(UsageNotAllowedError);
  });

  it('a deactivated version scheduled for destruction still processes until destroyed', () => {
    expect(checkUsage(keyIn('deactivated', scheduled(1, day(3))), 'process', NOW, 1).version).toBe(1);
  });
});

describe('version selection for use', () => {
  const rotated = keyIn('active', rotatedEvent(2, 1, day(10)));

  it('protect takes the current version', () => {
    expect(checkUsage(rotated, 'protect', NOW).version).toBe(2);
  });

  it('process takes the version the ciphertext names', () => {
    expect(checkUsage(rotated, 'process', NOW, 1).version).toBe(1);
    expect(checkUsage(rotated, 'process', NOW).version).toBe(2);
  });

  it('the old version no longer protects', () => {
    expect(() => checkUsage(rotated, 'protect', NOW, 1)).toThrow('Version 1 of key key-1 may not protect');
  });

  it('an unknown version is not found', () => {
    expect(() => checkUsage(rotated, 'process', NOW, 9)).toThrow(VersionNotFoundError);
  });

  it('refuses a malformed instant', () => {
    expect(() => checkUsage(rotated, 'process', 'now')).toThrow(InvalidInputError);
  });
});
