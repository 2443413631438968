import {
  InvalidInputError,
  InvalidParentError,
  InvalidTransitionError,
  KeyNotFoundError,
  VersionNotFoundError,
  WaitingPeriodError,
  CryptoperiodPolicyError,
  type KeyState,
  assertCanDestroy,
  decideKey,
  evolveKey,
  foldKey,
  initialKeyState,
  resolveVersion,
  DestructionNotDueError,
} from '../index.js';
import {
  KEY_ID,
  T0,
  activated,
  cmd,
  compromisedEvent,
  day,
  deactivated,
  evidence,
  fingerprint,
  generateKey,
  generated,
  given,
  historyTo,
  materialRef,
  parentView,
  plusDays,
  rotatedEvent,
  scheduled,
  suspended,
} from '../../test/key-fixtures.js';

const NOW = day(20);
const keyOf = (state: KeyState) => {
  if (state.status !== 'present') throw new Error('expected a present key');
  return state.key;
};
const afterDecide = (state: KeyState, command: Parameters<typeof decideKey>[0]) =>
  decideKey(command, state).reduce(evolveKey, state);

describe('GenerateKey', () => {
  it('given no key, generates version 1 in pre-activation with the default policy', () => {
    const events = decideKey(generateKey({ classifications: ['ephi', 'pii', 'ephi'], label: 'platform root' }), initialKeyState());
    expect(events).toEqual([
      generated({ classifications: ['ephi', 'pii'], label: 'platform root' }),
    ]);
    expect(keyOf(foldKey(events))).toMatchObject({
      currentVersion: 1,
      createdAt: T0,
      lastRotatedAt: null,
      versions: [{ version: 1, state: 'pre-activation', compromised: false, materialRef: materialRef(1), fingerprint: fingerprint(1) }],
    });
  });

  it('records the parent and the parent version that wraps version 1', () => {
    const [event] = decideKey(generateKey({ purpose: 'dek', parent: parentView() }), initialKeyState());
    expect(event).toMatchObject({
      type: 'KeyGenerated',
      data: { parentKeyId: 'kek-1', parentVersion: 3, policy: { oupDays: 90, rupDays: 90 + 1095, deviation: null } },
    });
  });

  it('takes the cryptoperiod override and refuses one beyond Table 1', () => {
    const [event] = decideKey(generateKey({ purpose: 'kek', cryptoperiodDays: 180 }), initialKeyState());
    expect(event.data).toMatchObject({ policy: { oupDays: 180, rupDays: 1275 } });
    expect(() => decideKey(generateKey({ purpose: 'kek', cryptoperiodDays: 731 }), initialKeyState())).toThrow(
      CryptoperiodPolicyError,
    );
  });

  it('refuses an unknown data classification', () => {
    const command = generateKey({ classifications: ['ephi', 'secret' as never] });
    expect(() => decideKey(command, initialKeyState())).toThrow(InvalidInputError);
  });

  it('given an existing key, refuses and names it', () => {
    expect(() => decideKey(generateKey(), given(generated()))).toThrow(`Key ${KEY_ID} already exists`);
  });

  describe('parent rules (root ─ KEK ─ DEK, tenant isolation)', () => {
    const allowed = [
      { purpose: 'root', parent: null },
      { purpose: 'kek', parent: null },
      { purpose: 'kek', parent: parentView({ purpose: 'root' }) },
      { purpose: 'kek', parent: parentView({ purpose: 'root', tenantId: 'platform' }) },
      { purpose: 'dek', parent: parentView({ purpose: 'kek' }) },
    ] as const;
    it.each(allowed)('allows a $purpose under $parent.purpose ($parent.tenantId)', ({ purpose, parent }) => {
      expect(decideKey(generateKey({ purpose, parent }), initialKeyState())).toHaveLength(1);
    });

    const refusedCases = [
      { why: 'a root under anything', purpose: 'root', parent: parentView({ purpose: 'root' }), message: /has no parent/ },
      { why: 'a DEK without a parent', purpose: 'dek', parent: null, message: /needs a parent kek/ },
      { why: 'a DEK under a root', purpose: 'dek', parent: parentView({ purpose: 'root' }), message: /must be wrapped by a kek/ },
      { why: 'a DEK under a DEK', purpose: 'dek', parent: parentView({ purpose: 'dek' }), message: /must be wrapped by a kek/ },
      { why: 'a KEK under a KEK', purpose: 'kek', parent: parentView({ purpose: 'kek' }), message: /must be wrapped by a root/ },
      {
        why: "a DEK under another tenant's KEK",
        purpose: 'dek',
        parent: parentView({ tenantId: 'tenant-b' }),
        message: /of its own tenant/,
      },
      {
        why: 'a DEK under a KEK that may not protect',
        purpose: 'dek',
        parent: parentView({ canProtect: false }),
        message: /may not wrap keys now/,
      },
      {
        why: 'a KEK under a root that may not protect',
        purpose: 'kek',
        parent: parentView({ purpose: 'root', canProtect: false }),
        message: /may not wrap keys now/,
      },
    ] as const;
    it.each(refusedCases)('refuses $why', ({ purpose, parent, message }) => {
      const when = () => decideKey(generateKey({ purpose, parent }), initialKeyState());
      expect(when).toThrow(InvalidParentError);
      expect(when).toThrow(message);
    });
  });
});

describe('commands on an absent key', () => {
  it.each([cmd.activate(NOW), cmd.rotate(NOW, 1), cmd.revoke(NOW, 'compromised'), cmd.destroy(NOW)])(
    '$type → KeyNotFoundError',
    (command) => {
      expect(() => decideKey(command, initialKeyState())).toThrow(KeyNotFoundError);
    },
  );
});

describe('version selection', () => {
  it('acts on the named version', () => {
    const state = given(...historyTo('active'), rotatedEvent(2, 1, day(5)));
    expect(decideKey(cmd.revoke(NOW, 'compromised', null, 1), state)).toMatchObject([{ data: { version: 1 } }]);
  });

  it('refuses an unknown version', () => {
    const state = given(...historyTo('active'));
    expect(() => decideKey(cmd.suspend(NOW, 7), state)).toThrow(VersionNotFoundError);
    expect(() => resolveVersion(keyOf(state), 7)).toThrow(`Key ${KEY_ID} has no version 7`);
  });

  it('currentVersion is the active version, else the newest one', () => {
    const rotatedTwice = given(...historyTo('active'), rotatedEvent(2, 1, day(4)), rotatedEvent(3, 2, day(5)));
    expect(keyOf(rotatedTwice).currentVersion).toBe(3);
    const suspendedNewest = afterDecide(rotatedTwice, cmd.suspend(NOW));
    expect(keyOf(suspendedNewest).currentVersion).toBe(3);
    // version 1 is still pre-activation while version 2 was rotated in and then compromised
    const oldActive = given(generated(), rotatedEvent(2, null, day(1)), compromisedEvent(2, day(2)));
    expect(keyOf(oldActive).currentVersion).toBe(2);
  });
});

describe('ActivateKey', () => {
  it('sets the usage periods from the key policy, in UTC days', () => {
    const [event] = decideKey(cmd.activate('2025-03-01T12:00:00.000Z'), given(generated()));
    expect(event.data).toMatchObject({
      protectUntil: '2027-03-01T12:00:00.000Z',
      processUntil: '2030-02-28T12:00:00.000Z',
    });
  });

  it('refuses a second active version: rotate instead', () => {
    const state = given(generated(), rotatedEvent(2, null, day(1)));
    const when = () => decideKey(cmd.activate(NOW, 1), state);
    expect(when).toThrow(InvalidTransitionError);
    expect(when).toThrow('version 2 is active; rotate instead');
  });
});

describe('RotateKey', () => {
  it('activates version max+1 and deactivates the active one in a single event', () => {
    const before = given(...historyTo('active'));
    const after = keyOf(afterDecide(before, cmd.rotate(NOW, 2)));
    expect(after.currentVersion).toBe(2);
    expect(after.lastRotatedAt).toBe(NOW);
    expect(after.versions).toMatchObject([
      { version: 1, state: 'deactivated', deactivatedAt: NOW },
      {
        version: 2,
        state: 'active',
        activatedAt: NOW,
        protectUntil: plusDays(NOW, 730),
        processUntil: plusDays(NOW, 1825),
        materialRef: materialRef(2),
      },
    ]);
  });

  it('numbers after the highest version, whatever the current one is', () => {
    const state = given(...historyTo('active'), rotatedEvent(2, 1, day(3)), compromisedEvent(2, day(4)));
    expect(decideKey(cmd.rotate(NOW, 3), state)).toMatchObject([
      { data: { material: { version: 3 }, previousVersion: null } },
    ]);
  });

  it('a wrapped key must name the parent version of the new version; a root must not', () => {
    const dek = given(generated({ purpose: 'dek', parentKeyId: 'kek-1', parentVersion: 1, policy: { oupDays: 90, rupDays: 1185, deviation: null } }));
    expect(() => decideKey(cmd.rotate(NOW, 2, null), dek)).toThrow(InvalidParentError);
    expect(decideKey(cmd.rotate(NOW, 2, 4), dek)).toMatchObject([{ data: { parentVersion: 4 } }]);
    expect(() => decideKey(cmd.rotate(NOW, 2, 1), given(generated()))).toThrow(/has no parent/);
  });

  it('after rotation, the suspended old version cannot be reactivated while the new one is active', () => {
    const state = given(...historyTo('suspended'), rotatedEvent(2, null, day(3)));
    expect(() => decideKey(cmd.reactivate(NOW, 1), state)).toThrow('version 2 is active; rotate instead');
    expect(decideKey(cmd.deactivate(NOW, 1), state)).toEqual([deactivated(1, NOW)]);
  });
});

describe('SuspendKey', () => {
  it('records the reason given', () => {
    const command = { type: 'SuspendKey' as const, data: { reason: 'investigating', now: NOW } };
    expect(decideKey(command, given(...historyTo('active')))).toMatchObject([{ data: { reason: 'investigating' } }]);
  });
});

describe('RevokeKey', () => {
  it('records the compromise date given, normalised to UTC', () => {
    const [event] = decideKey(cmd.revoke(NOW, 'compromised', '2025-01-05T02:00:00+02:00'), given(...historyTo('active')));
    expect(event.data).toMatchObject({ compromisedAt: '2025-01-05T00:00:00.000Z', revokedAt: NOW });
  });

  it('refuses a compromise date in the future', () => {
    const when = () => decideKey(cmd.revoke(NOW, 'compromised', day(21)), given(...historyTo('active')));
    expect(when).toThrow(InvalidInputError);
    expect(when).toThrow(/in the future/);
  });

  it('refuses a compromise date that is not an ISO instant', () => {
    expect(() => decideKey(cmd.revoke(NOW, 'compromised', 'yesterday'), given(...historyTo('active')))).toThrow(
      InvalidInputError,
    );
  });

  it('refuses a compromise date with another reason', () => {
    expect(() => decideKey(cmd.revoke(NOW, 'superseded', day(1)), given(...historyTo('active')))).toThrow(
      /applies only to reason compromised/,
    );
  });

  it.each(['cessation-of-operation', 'privilege-withdrawn'] as const)('%s deactivates like superseded', (reason) => {
    const after = afterDecide(given(...historyTo('suspended')), cmd.revoke(NOW, reason));
    expect(keyOf(after).versions[0]).toMatchObject({ state: 'deactivated', deactivatedAt: NOW, compromised: false });
  });

  it('a compromise reported after destruction only sets the flag, once', () => {
    const after = afterDecide(given(...historyTo('destroyed')), cmd.revoke(NOW, 'compromised', day(5)));
    expect(keyOf(after).versions[0]).toMatchObject({ state: 'destroyed', compromised: true, compromisedAt: day(5) });
    expect(() => decideKey(cmd.revoke(NOW, 'compromised'), after)).toThrow(/already compromised/);
  });
});

describe('ScheduleKeyDestruction', () => {
  it('refuses waiting periods outside minimum..30 days', () => {
    const state = given(...historyTo('deactivated'));
    expect(() => decideKey(cmd.schedule(NOW, 6), state)).toThrow(WaitingPeriodError);
    expect(() => decideKey(cmd.schedule(NOW, 31), state)).toThrow(WaitingPeriodError);
  });

  it('records the lowered minimum in force and allows an immediate destruction', () => {
    const state = given(...historyTo('deactivated'));
    const events = decideKey(cmd.schedule(NOW, 0, 0), state);
    expect(events).toEqual([scheduled(1, NOW, 0, 0)]);
    expect(decideKey(cmd.destroy(NOW), events.reduce(evolveKey, state))).toHaveLength(1);
  });
});

describe('DestroyKey and its pre-erasure guard', () => {
  const due = () => given(...historyTo('deactivated'), scheduled(1, day(3)));

  it('assertCanDestroy returns the version to erase once due', () => {
    expect(assertCanDestroy(due(), undefined, NOW)).toMatchObject({ version: 1, materialRef: materialRef(1) });
  });

  it('assertCanDestroy refuses before the custodian is asked anything', () => {
    expect(() => assertCanDestroy(due(), 1, day(9))).toThrow(DestructionNotDueError);
    expect(() => assertCanDestroy(given(...historyTo('active')), 1, NOW)).toThrow(InvalidTransitionError);
    expect(() => assertCanDestroy(initialKeyState(), 1, NOW)).toThrow(KeyNotFoundError);
  });

  it('refuses when the custodian did not verify absence', () => {
    const command = cmd.destroy(NOW, 1, evidence(1, NOW, { verifiedAbsent: false }));
    expect(() => decideKey(command, due())).toThrow('custodian did not verify absence');
  });

  it('refuses evidence about other material or another custodian', () => {
    expect(() => decideKey(cmd.destroy(NOW, 1, evidence(1, NOW, { materialRef: 'ref-9' })), due())).toThrow(
      InvalidInputError,
    );
    expect(() => decideKey(cmd.destroy(NOW, 1, evidence(1, NOW, { custodian: 'pkcs11' })), due())).toThrow(
      InvalidInputError,
    );
  });
});

describe('input validation', () => {
  it.each(['2025-01-01', 'Jan 1 2025', '2025-01-01T00:00:00', ''])('refuses now=%p', (now) => {
    expect(() => decideKey(cmd.suspend(now), given(...historyTo('active')))).toThrow(InvalidInputError);
  });
});

describe('evolve on an impossible stream', () => {
  it('throws rather than guess', () => {
    expect(() => foldKey([activated(1, day(1))])).toThrow(/not generated yet/);
    expect(() => foldKey([generated(), generated()])).toThrow(/already generated/);
    expect(() => foldKey([generated(), suspended(4, day(1))])).toThrow(/no version 4/);
  });
});
