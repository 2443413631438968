/**
 * Given/when/then builders for the key decider tests. States are always built by folding real
 * events, never by writing a state object by hand, so the tests exercise evolve as well.
 */
import type {
  DestructionEvidence,
  GenerateKey,
  KeyCommand,
  KeyEvent,
  KeyGenerated,
  KeyState,
  KeyVersionState,
  ParentKeyView,
} from '../src/index.js';
import { foldKey } from '../src/index.js';

export const KEY_ID = 'key-1';
export const TENANT = 'tenant-a';
export const T0 = '2025-01-01T00:00:00.000Z';

/** An instant `days` after T0, computed independently of the code under test. */
export const day = (days: number): string => new Date(Date.UTC(2025, 0, 1) + days * 86_400_000).toISOString();
export const plusDays = (iso: string, days: number): string =>
  new Date(Date.parse(iso) + days * 86_400_000).toISOString();

export const materialRef = (version: number): string => `ref-${version}`;
export const fingerprint = (version: number): string => `kcv-${version}`;

export const rootPolicy = { oupDays: 730, rupDays: 1825, deviation: null };

export function generated(overrides: Partial<KeyGenerated['data']> = {}): KeyGenerated {
  return {
    type: 'KeyGenerated',
    data: {
      keyId: KEY_ID,
      tenantId: TENANT,
      purpose: 'root',
      algorithm: 'AES-256',
      custodian: 'software',
      parentKeyId: null,
      parentVersion: null,
      label: null,
      classifications: ['ephi'],
      vendors: [],
      policy: rootPolicy,
      material: { version: 1, materialRef: materialRef(1), fingerprint: fingerprint(1) },
      generatedAt: T0,
      ...overrides,
    },
  };
}

export const activated = (version: number, at: string): KeyEvent => ({
  type: 'KeyVersionActivated',
  data: {
    keyId: KEY_ID,
    version,
    activatedAt: at,
    protectUntil: plusDays(at, rootPolicy.oupDays),
    processUntil: plusDays(at, rootPolicy.rupDays),
  },
});
export const suspended = (version: number, at: string): KeyEvent => ({
  type: 'KeyVersionSuspended',
  data: { keyId: KEY_ID, version, suspendedAt: at, reason: null },
});
export const deactivated = (version: number, at: string): KeyEvent => ({
  type: 'KeyVersionDeactivated',
  data: { keyId: KEY_ID, version, deactivatedAt: at, reason: 'operator' },
});
export const compromisedEvent = (version: number, at: string): KeyEvent => ({
  type: 'KeyVersionRevoked',
  data: { keyId: KEY_ID, version, reason: 'compromised', compromisedAt: at, revokedAt: at, resultingState: 'compromised' },
});
export const scheduled = (version: number, at: string, days = 7, minimum = 7): KeyEvent => ({
  type: 'KeyDestructionScheduled',
  data: {
    keyId: KEY_ID,
    version,
    waitingPeriodDays: days,
    minimumWaitingPeriodDays: minimum,
    scheduledAt: at,
    scheduledFor: plusDays(at, days),
  },
});
export const evidence = (version: number, at: string, overrides: Partial<DestructionEvidence> = {}): DestructionEvidence => ({
  custodian: 'software',
  materialRef: materialRef(version),
  method: 'software-erase',
  verifiedAbsent: true,
  verification: 'material file absent after erase',
  destroyedAt: at,
  ...overrides,
});
export const destroyedEvent = (version: number, at: string): KeyEvent => ({
  type: 'KeyVersionDestroyed',
  data: { keyId: KEY_ID, version, destroyedAt: at, evidence: evidence(version, at) },
});
export const rotatedEvent = (version: number, previousVersion: number | null, at: string): KeyEvent => ({
  type: 'KeyRotated',
  data: {
    keyId: KEY_ID,
    material: { version, materialRef: materialRef(version), fingerprint: fingerprint(version) },
    parentVersion: null,
    previousVersion,
    rotatedAt: at,
    protectUntil: plusDays(at, rootPolicy.oupDays),
    processUntil: plusDays(at, rootPolicy.rupDays),
  },
});

/** The history that leaves version 1 of a root key in `state` (all events before day 10). */
export function historyTo(state: KeyVersionState): KeyEvent[] {
  const g = generated();
  switch (state) {
    case 'pre-activation':
      return [g];
    case 'active':
      return [g, activated(1, day(1))];
    case 'suspended':
      return [g, activated(1, day(1)), suspended(1, day(2))];
    case 'deactivated':
      return [g, activated(1, day(1)), deactivated(1, day(2))];
    case 'compromised':
      return [g, activated(1, day(1)), compromisedEvent(1, day(2))];
    case 'destroyed':
      return [g, activated(1, day(1)), deactivated(1, day(2)), scheduled(1, day(3)), destroyedEvent(1, day(10))];
    default: {
      const _exhaustive: never = state;
      return _exhaustive;
    }
  }
}

export const given = (...events: KeyEvent[]): KeyState => deepFreeze(foldKey(events));

/** Frozen states make any mutation inside decide throw (test modules run in strict mode). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

// ---- commands ----

export const generateKey = (overrides: Partial<GenerateKey['data']> = {}): GenerateKey => ({
  type: 'GenerateKey',
  data: {
    keyId: KEY_ID,
    tenantId: TENANT,
    purpose: 'root',
    algorithm: 'AES-256',
    custodian: 'software',
    parent: null,
    label: null,
    classifications: ['ephi'],
    vendors: [],
    cryptoperiodDays: null,
    material: { materialRef: materialRef(1), fingerprint: fingerprint(1) },
    now: T0,
    ...overrides,
  },
});

export const parentView = (overrides: Partial<ParentKeyView> = {}): ParentKeyView => ({
  keyId: 'kek-1',
  tenantId: TENANT,
  purpose: 'kek',
  version: 3,
  canProtect: true,
  ...overrides,
});

export const cmd = {
  activate: (now: string, version?: number): KeyCommand => ({ type: 'ActivateKey', data: { version, now } }),
  rotate: (now: string, newVersion: number, parentVersion: number | null = null): KeyCommand => ({
    type: 'RotateKey',
    data: { material: { materialRef: materialRef(newVersion), fingerprint: fingerprint(newVersion) }, parentVersion, now },
  }),
  suspend: (now: string, version?: number): KeyCommand => ({ type: 'SuspendKey', data: { version, now } }),
  reactivate: (now: string, version?: number): KeyCommand => ({ type: 'ReactivateKey', data: { version, now } }),
  deactivate: (now: string, version?: number): KeyCommand => ({ type: 'DeactivateKey', data: { version, now } }),
  revoke: (
    now: string,
    reason: 'compromised' | 'superseded' | 'cessation-of-operation' | 'privilege-withdrawn',
    compromisedAt?: string | null,
    version?: number,
  ): KeyCommand => ({ type: 'RevokeKey', data: { version, reason, compromisedAt, now } }),
  schedule: (now: string, waitingPeriodDays = 7, minimumWaitingPeriodDays = 7, version?: number): KeyCommand => ({
    type: 'ScheduleKeyDestruction',
    data: { version, waitingPeriodDays, minimumWaitingPeriodDays, now },
  }),
  cancel: (now: string, version?: number): KeyCommand => ({ type: 'CancelKeyDestruction', data: { version, now } }),
  destroy: (now: string, version?: number, ev: DestructionEvidence = evidence(version ?? 1, now)): KeyCommand => ({
    type: 'DestroyKey',
    data: { version, evidence: ev, now },
  }),
};
