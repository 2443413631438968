import fc from 'fast-check';
import {
  DomainError,
  KEY_VERSION_STATES,
  REVOCATION_REASONS,
  canTransition,
  decideKey,
  evolveKey,
  foldKey,
  initialKeyState,
  type Key,
  type KeyCommand,
  type KeyEvent,
  type KeyState,
} from '../index.js';
import { T0, deepFreeze, evidence, generateKey, materialRef, parentView, plusDays } from '../../test/key-fixtures.js';

/**
 * Random command sequences (random versions, random forward-moving time) through decide+evolve.
 * Whatever the sequence, the lifecycle invariants of SPEC §3 must hold after every event, and
 * folding every emitted event from scratch must give the incrementally evolved state.
 */
type CommandAt = (state: KeyState, now: string) => KeyCommand;

/** Half the commands act on the current version, as most callers do; the rest name one. */
const versionArb = fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined, freq: 2 });
const DAY_MS = 86_400_000;
/** True nine times in ten: a destroy whose evidence is usually good reaches `destroyed` often enough. */
const mostly = (value: boolean) => fc.integer({ min: 0, max: 9 }).map((n) => (n === 0 ? !value : value));

const commandArb: fc.Arbitrary<CommandAt> = fc.oneof(
  versionArb.map((version): CommandAt => (_, now) => ({ type: 'ActivateKey', data: { version, now } })),
  fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }).map(
    (parentVersion): CommandAt =>
      (_, now) => ({
        type: 'RotateKey',
        data: { material: { materialRef: `ref-${now}`, fingerprint: `kcv-${now}` }, parentVersion, now },
      }),
  ),
  versionArb.map((version): CommandAt => (_, now) => ({ type: 'SuspendKey', data: { version, reason: null, now } })),
  versionArb.map((version): CommandAt => (_, now) => ({ type: 'ReactivateKey', data: { version, now } })),
  versionArb.map((version): CommandAt => (_, now) => ({ type: 'DeactivateKey', data: { version, now } })),
  fc
    .record({
      version: versionArb,
      reason: fc.constantFrom(...REVOCATION_REASONS),
      // mostly in the past, sometimes (refused) in the future
      compromisedDaysAgo: fc.option(fc.integer({ min: -1, max: 30 }), { nil: null }),
    })
    .map(
      ({ version, reason, compromisedDaysAgo }): CommandAt =>
        (_, now) => ({
          type: 'RevokeKey',
          data: {
            version,
            reason,
            compromisedAt: reason === 'compromised' && compromisedDaysAgo !== null ? plusDays(now, -compromisedDaysAgo) : null,
            now,
          },
        }),
    ),
  fc
    .record({ version: versionArb, days: fc.integer({ min: 0, max: 35 }), minimum: fc.integer({ min: 0, max: 7 }) })
    .map(
      ({ version, days, minimum }): CommandAt =>
        (_, now) => ({
          type: 'ScheduleKeyDestruction',
          data: { version, waitingPeriodDays: days, minimumWaitingPeriodDays: minimum, now },
        }),
    ),
  versionArb.map((version): CommandAt => (_, now) => ({ type: 'CancelKeyDestruction', data: { version, now } })),
  fc.record({ version: versionArb, verifiedAbsent: mostly(true), sameMaterial: mostly(true) }).map(
    ({ version, verifiedAbsent, sameMaterial }): CommandAt =>
      (state, now) => ({
        type: 'DestroyKey',
        data: { version, now, evidence: evidence(1, now, { verifiedAbsent, materialRef: targetRef(state, version, sameMaterial) }) },
      }),
  ),
  fc.constant((_: KeyState, now: string): KeyCommand => generateKey({ now })),
);

/** The custodian erases the material of the version the command names, or (sometimes) another. */
function targetRef(state: KeyState, version: number | undefined, sameMaterial: boolean): string {
  if (!sameMaterial || state.status !== 'present') return 'ref-unrelated';
  const wanted = version ?? state.key.currentVersion;
  return state.key.versions.find((v) => v.version === wanted)?.materialRef ?? materialRef(wanted);
}

const scenarioArb = fc.record({
  purpose: fc.constantFrom('root' as const, 'dek' as const),
  steps: // size 'max': fast-check's default size would cap sequences at about ten commands
  fc.array(fc.tuple(fc.integer({ min: 0, max: 40 * DAY_MS }), commandArb), { maxLength: 40, size: 'max' }),
});

// ---- invariants ----

function assertStep(before: Key, after: Key): void {
  for (const prev of before.versions) {
    const next = after.versions.find((v) => v.version === prev.version);
    expect(next).toBeDefined();
    if (!next) return;
    if (next.state !== prev.state && !canTransition(prev.state, next.state)) {
      throw new Error(`forbidden transition of version ${prev.version}: ${prev.state} → ${next.state}`);
    }
    if (prev.compromised) expect(next.compromised).toBe(true);
    if (prev.state === 'destroyed') expect(next.state).toBe('destroyed');
  }
  const added = after.versions.filter((v) => !before.versions.some((p) => p.version === v.version));
  expect(added.length).toBeLessThanOrEqual(1);
  for (const v of added) expect(v.state).toBe('active'); // only rotation adds versions after generation
}

function assertInvariants(key: Key): void {
  const active = key.versions.filter((v) => v.state === 'active');
  expect(active.length).toBeLessThanOrEqual(1);
  const highest = Math.max(...key.versions.map((v) => v.version));
  expect(key.currentVersion).toBe(active[0]?.version ?? highest);
  expect(key.versions.map((v) => v.version)).toEqual(key.versions.map((_, i) => i + 1));
  for (const v of key.versions) {
    // a version waiting for destruction never returns to use
    if (v.destructionScheduledFor !== null) expect(['pre-activation', 'deactivated', 'compromised', 'destroyed']).toContain(v.state);
    if (v.state === 'compromised') expect(v.compromised).toBe(true);
  }
}

const presentKey = (state: KeyState): Key => {
  if (state.status !== 'present') throw new Error('expected a present key');
  return state.key;
};

// ---- the property ----

describe('key decider properties', () => {
  it('random command sequences never break the lifecycle invariants, and replay equals evolve', () => {
    const reachedStates = new Set<string>();
    const acceptedCommands = new Set<string>();
    fc.assert(
      fc.property(scenarioArb, ({ purpose, steps }) => {
        const parent = purpose === 'dek' ? parentView() : null;
        const emitted: KeyEvent[] = [...decideKey(generateKey({ purpose, parent }), initialKeyState())];
        let state = deepFreeze(foldKey(emitted));
        let now = T0;
        for (const [advance, commandAt] of steps) {
          now = plusDays(now, advance / DAY_MS);
          const command = commandAt(state, now);
          let events: KeyEvent[];
          try {
            events = decideKey(command, state);
          } catch (error) {
            // a refusal must be a typed domain error, never a crash
            if (!(error instanceof DomainError)) throw error;
            continue;
          }
          acceptedCommands.add(command.type);
          for (const event of events) {
            const next = deepFreeze(evolveKey(state, event));
            assertStep(presentKey(state), presentKey(next));
            state = next;
            emitted.push(event);
          }
          assertInvariants(presentKey(state));
          presentKey(state).versions.forEach((v) => reachedStates.add(v.state));
        }
        expect(foldKey(emitted)).toEqual(state);
      }),
      { numRuns: 400 },
    );
    // Guards the property itself: random sequences that never reach a state would prove nothing.
    expect([...reachedStates].sort()).toEqual([...KEY_VERSION_STATES].sort());
    expect([...acceptedCommands].sort()).toEqual(
      [
        'ActivateKey',
        'CancelKeyDestruction',
        'DeactivateKey',
        'DestroyKey',
        'ReactivateKey',
        'RevokeKey',
        'RotateKey',
        'ScheduleKeyDestruction',
        'SuspendKey',
      ].sort(),
    );
  });
});
