import {
  DestructionNotDueError,
  DomainError,
  InvalidTransitionError,
  KEY_VERSION_STATES,
  KeyAlreadyExistsError,
  type KeyCommand,
  type KeyEvent,
  type KeyState,
  type KeyVersion,
  type KeyVersionState,
  decideKey,
  evolveKey,
} from '../index.js';
import {
  KEY_ID,
  activated,
  cmd,
  day,
  deactivated,
  generateKey,
  given,
  historyTo,
  plusDays,
  rotatedEvent,
  scheduled,
} from '../../test/key-fixtures.js';

/**
 * The whole lifecycle table: every command against version 1 of a key in each of the six
 * SP 800-57 states. An allowed command yields exactly the listed events and leaves version 1 in
 * `then`; a refused one throws the listed typed error (so nothing is appended).
 */
const NOW = day(20);

type ErrorClass = new (...args: never[]) => DomainError;
type Outcome = { events: KeyEvent[]; then: KeyVersionState } | { error: ErrorClass; message?: RegExp };
type CommandCase = { name: string; command: KeyCommand; outcomes: Record<KeyVersionState, Outcome> };

const refused = (error: ErrorClass, message?: RegExp): Outcome => ({ error, message });
const IT = refused(InvalidTransitionError);

const revokedCompromised = (resultingState: 'compromised' | 'destroyed'): KeyEvent => ({
  type: 'KeyVersionRevoked',
  data: { keyId: KEY_ID, version: 1, reason: 'compromised', compromisedAt: NOW, revokedAt: NOW, resultingState },
});
const revokedSuperseded: KeyEvent = {
  type: 'KeyVersionRevoked',
  data: { keyId: KEY_ID, version: 1, reason: 'superseded', compromisedAt: null, revokedAt: NOW, resultingState: 'deactivated' },
};
const rotateOk = (previousVersion: number | null, then: KeyVersionState): Outcome => ({
  events: [rotatedEvent(2, previousVersion, NOW)],
  then,
});

const TABLE: CommandCase[] = [
  {
    name: 'GenerateKey',
    command: generateKey({ now: NOW }),
    outcomes: {
      'pre-activation': refused(KeyAlreadyExistsError),
      active: refused(KeyAlreadyExistsError),
      suspended: refused(KeyAlreadyExistsError),
      deactivated: refused(KeyAlreadyExistsError),
      compromised: refused(KeyAlreadyExistsError),
      destroyed: refused(KeyAlreadyExistsError),
    },
  },
  {
    name: 'ActivateKey',
    command: cmd.activate(NOW),
    outcomes: {
      'pre-activation': { events: [activated(1, NOW)], then: 'active' },
      active: IT,
      suspended: IT,
      deactivated: IT,
      compromised: IT,
      destroyed: IT,
    },
  },
  {
    name: 'RotateKey',
    command: cmd.rotate(NOW, 2),
    outcomes: {
      'pre-activation': rotateOk(null, 'pre-activation'),
      active: rotateOk(1, 'deactivated'),
      suspended: rotateOk(null, 'suspended'),
      deactivated: rotateOk(null, 'deactivated'),
      compromised: rotateOk(null, 'compromised'),
      destroyed: rotateOk(null, 'destroyed'),
    },
  },
  {
    name: 'SuspendKey',
    command: cmd.suspend(NOW),
    outcomes: {
      'pre-activation': IT,
      active: {
        events: [{ type: 'KeyVersionSuspended', data: { keyId: KEY_ID, version: 1, suspendedAt: NOW, reason: null } }],
        then: 'suspended',
      },
      suspended: IT,
      deactivated: IT,
      compromised: IT,
      destroyed: IT,
    },
  },
  {
    name: 'ReactivateKey',
    command: cmd.reactivate(NOW),
    outcomes: {
      'pre-activation': IT,
      active: IT,
      suspended: {
        events: [{ type: 'KeyVersionReactivated', data: { keyId: KEY_ID, version: 1, reactivatedAt: NOW } }],
        then: 'active',
      },
      deactivated: IT,
      compromised: IT,
      destroyed: IT,
    },
  },
  {
    name: 'DeactivateKey',
    command: cmd.deactivate(NOW),
    outcomes: {
      'pre-activation': IT,
      active: { events: [deactivated(1, NOW)], then: 'deactivated' },
      suspended: { events: [deactivated(1, NOW)], then: 'deactivated' },
      deactivated: IT,
      compromised: IT,
      destroyed: IT,
    },
  },
  {
    name: 'RevokeKey (compromised)',
    command: cmd.revoke(NOW, 'compromised'),
    outcomes: {
      'pre-activation': { events: [revokedCompromised('compromised')], then: 'compromised' },
      active: { events: [revokedCompromised('compromised')], then: 'compromised' },
      suspended: { events: [revokedCompromised('compromised')], then: 'compromised' },
      deactivated: { events: [revokedCompromised('compromised')], then: 'compromised' },
      compromised: refused(InvalidTransitionError, /already compromised/),
      destroyed: { events: [revokedCompromised('destroyed')], then: 'destroyed' },
    },
  },
  {
    name: 'RevokeKey (superseded)',
    command: cmd.revoke(NOW, 'superseded'),
    outcomes: {
      'pre-activation': IT,
      active: { events: [revokedSuperseded], then: 'deactivated' },
      suspended: { events: [revokedSuperseded], then: 'deactivated' },
      deactivated: IT,
      compromised: IT,
      destroyed: IT,
    },
  },
  {
    name: 'ScheduleKeyDestruction',
    command: cmd.schedule(NOW),
    outcomes: {
      'pre-activation': { events: [scheduled(1, NOW)], then: 'pre-activation' },
      active: refused(InvalidTransitionError, /deactivate it first/),
      suspended: refused(InvalidTransitionError, /deactivate it first/),
      deactivated: { events: [scheduled(1, NOW)], then: 'deactivated' },
      compromised: { events: [scheduled(1, NOW)], then: 'compromised' },
      destroyed: refused(InvalidTransitionError, /already destroyed/),
    },
  },
  {
    name: 'CancelKeyDestruction',
    command: cmd.cancel(NOW),
    outcomes: {
      'pre-activation': refused(InvalidTransitionError, /no destruction is scheduled/),
      active: refused(InvalidTransitionError, /no destruction is scheduled/),
      suspended: refused(InvalidTransitionError, /no destruction is scheduled/),
      deactivated: refused(InvalidTransitionError, /no destruction is scheduled/),
      compromised: refused(InvalidTransitionError, /no destruction is scheduled/),
      destroyed: refused(InvalidTransitionError, /already destroyed/),
    },
  },
  {
    name: 'DestroyKey',
    command: cmd.destroy(NOW),
    outcomes: {
      'pre-activation': refused(DestructionNotDueError, /no scheduled destruction/),
      active: refused(InvalidTransitionError, /deactivate it first/),
      suspended: refused(InvalidTransitionError, /deactivate it first/),
      deactivated: refused(DestructionNotDueError, /no scheduled destruction/),
      compromised: refused(DestructionNotDueError, /no scheduled destruction/),
      destroyed: refused(InvalidTransitionError, /already destroyed/),
    },
  },
];

const version1 = (state: KeyState): KeyVersion => {
  if (state.status !== 'present') throw new Error('expected a present key');
  const v = state.key.versions.find((x) => x.version === 1);
  if (!v) throw new Error('expected version 1');
  return v;
};

describe('key decider: every command in every version state', () => {
  const cases = TABLE.flatMap(({ name, command, outcomes }) =>
    KEY_VERSION_STATES.map((state) => ({ name, command, state, outcome: outcomes[state] })),
  );

  it('covers the whole table (10 commands, revoke twice, × 6 states)', () => {
    expect(cases).toHaveLength(11 * 6);
  });

  it.each(cases)('$name on a $state version', ({ command, state, outcome }) => {
    // given
    const before = given(...historyTo(state));
    expect(version1(before).state).toBe(state);
    // when / then
    if ('error' in outcome) {
      const when = () => decideKey(command, before);
      expect(when).toThrow(outcome.error);
      if (outcome.message) expect(when).toThrow(outcome.message);
      return;
    }
    const events = decideKey(command, before);
    expect(events).toEqual(outcome.events);
    expect(version1(events.reduce(evolveKey, before)).state).toBe(outcome.then);
  });
});

describe('key decider: versions waiting for destruction (scheduled on day 3, due on day 10)', () => {
  const destroyable = ['pre-activation', 'deactivated', 'compromised'] as const;
  const withSchedule = (state: KeyVersionState) => given(...historyTo(state), scheduled(1, day(3)));

  it.each(destroyable)('cancels the destruction of a %s version', (state) => {
    const events = decideKey(cmd.cancel(NOW), withSchedule(state));
    expect(events).toEqual([{ type: 'KeyDestructionCancelled', data: { keyId: KEY_ID, version: 1, cancelledAt: NOW } }]);
    expect(version1(events.reduce(evolveKey, withSchedule(state))).destructionScheduledFor).toBeNull();
  });

  it.each(destroyable)('destroys a %s version once due, with the custodian evidence', (state) => {
    const command = cmd.destroy(NOW);
    const events = decideKey(command, withSchedule(state));
    expect(events).toEqual([
      {
        type: 'KeyVersionDestroyed',
        data: { keyId: KEY_ID, version: 1, destroyedAt: NOW, evidence: (command.data as { evidence: unknown }).evidence },
      },
    ]);
    const after = version1(events.reduce(evolveKey, withSchedule(state)));
    expect(after).toMatchObject({ state: 'destroyed', destroyedAt: NOW, compromised: state === 'compromised' });
  });

  it.each(destroyable)('refuses to destroy a %s version before the waiting period ends', (state) => {
    const when = () => decideKey(cmd.destroy(day(9)), withSchedule(state));
    expect(when).toThrow(DestructionNotDueError);
    expect(when).toThrow(`may be destroyed only from ${day(10)}`);
  });

  it.each(destroyable)('refuses to schedule a %s version twice', (state) => {
    expect(() => decideKey(cmd.schedule(NOW), withSchedule(state))).toThrow(/already scheduled for/);
  });

  it('refuses to activate a version waiting for destruction', () => {
    expect(() => decideKey(cmd.activate(NOW), withSchedule('pre-activation'))).toThrow(/cancel it first/);
  });

  it('compromising a version waiting for destruction keeps the schedule (compromised → destroyed is allowed)', () => {
    const before = withSchedule('deactivated');
    const after = decideKey(cmd.revoke(NOW, 'compromised'), before).reduce(evolveKey, before);
    expect(version1(after)).toMatchObject({ state: 'compromised', destructionScheduledFor: day(10) });
  });

  it('destroys exactly at the due instant', () => {
    expect(decideKey(cmd.destroy(day(10)), withSchedule('deactivated'))).toHaveLength(1);
  });

  it('a rotation does not disturb a schedule on another version', () => {
    const before = withSchedule('deactivated');
    const after = decideKey(cmd.rotate(NOW, 2), before).reduce(evolveKey, before);
    expect(version1(after).destructionScheduledFor).toBe(plusDays(day(3), 7));
  });
});
