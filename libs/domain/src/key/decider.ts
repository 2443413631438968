import {
  DestructionNotDueError,
  InvalidInputError,
  InvalidParentError,
  InvalidTransitionError,
  KeyAlreadyExistsError,
  KeyNotFoundError,
} from '../errors.js';
import { addDays, instantMillis, normalizeInstant } from '../time.js';
import type {
  ActivateKey,
  CancelKeyDestruction,
  DeactivateKey,
  DestroyKey,
  KeyCommand,
  ReactivateKey,
  RevokeKey,
  RotateKey,
  ScheduleKeyDestruction,
  SuspendKey,
  UpdateKeyMetadata,
} from './commands.js';
import type { KeyEvent } from './events.js';
import { decideGenerate, uniqueClassifications } from './generate.js';
import { validateWaitingPeriod } from './policy.js';
import type { Key, KeyState, KeyVersion } from './state.js';
import { canTransition } from './transitions.js';
import { REVOCATION_REASONS, type KeyVersionState, type LifecycleCommandName } from './types.js';
import { activeVersion, highestVersionNumber, resolveVersion } from './versions.js';

export { evolveKey, foldKey } from './evolve.js';
export { resolveVersion } from './versions.js';

/** The lifecycle name of each command, as errors and audit entries spell it. */
export const KEY_COMMAND_NAMES: Readonly<Record<KeyCommand['type'], LifecycleCommandName>> = {
  GenerateKey: 'generate',
  ActivateKey: 'activate',
  RotateKey: 'rotate',
  SuspendKey: 'suspend',
  ReactivateKey: 'reactivate',
  DeactivateKey: 'deactivate',
  RevokeKey: 'revoke',
  ScheduleKeyDestruction: 'schedule-destruction',
  CancelKeyDestruction: 'cancel-destruction',
  DestroyKey: 'destroy',
  UpdateKeyMetadata: 'update-metadata',
};

/**
 * decide(command, state) → events. Pure: time and material handles come with the command.
 * A refused command throws a typed DomainError, so nothing is appended.
 * On an absent stream the keyId is unknown to the decider (only GenerateKey carries one):
 * the application layer answers 404 with the id before calling decide.
 */
export function decideKey(command: KeyCommand, state: KeyState): KeyEvent[] {
  if (command.type === 'GenerateKey') {
    if (state.status === 'present') throw new KeyAlreadyExistsError(state.key.keyId);
    return decideGenerate(command);
  }
  if (state.status === 'absent') throw new KeyNotFoundError('');
  instantMillis(command.data.now);
  const key = state.key;
  switch (command.type) {
    case 'ActivateKey':
      return activate(command, key);
    case 'RotateKey':
      return rotate(command, key);
    case 'SuspendKey':
      return suspend(command, key);
    case 'ReactivateKey':
      return reactivate(command, key);
    case 'DeactivateKey':
      return deactivate(command, key);
    case 'RevokeKey':
      return revoke(command, key);
    case 'ScheduleKeyDestruction':
      return scheduleDestruction(command, key);
    case 'CancelKeyDestruction':
      return cancelDestruction(command, key);
    case 'DestroyKey':
      return destroy(command, key);
    case 'UpdateKeyMetadata':
      return updateMetadata(command, key);
    default: {
      const _exhaustive: never = command;
      throw new Error(`Unknown key command ${JSON.stringify(_exhaustive)}`);
    }
  }
}

// ---- guards ----

function refuse(command: LifecycleCommandName, key: Key, v: KeyVersion, why?: string): InvalidTransitionError {
  return new InvalidTransitionError(command, v.state, key.keyId, v.version, why);
}

/** The transition table decides; `from` narrows it where a command starts from one state only. */
function requireTransition(
  command: LifecycleCommandName,
  key: Key,
  v: KeyVersion,
  to: KeyVersionState,
  from?: KeyVersionState,
): void {
  if ((from !== undefined && v.state !== from) || !canTransition(v.state, to)) throw refuse(command, key, v);
}

/** Only one version protects at a time: a second active one would split new data between two keys. */
function requireNoOtherActive(command: LifecycleCommandName, key: Key, v: KeyVersion): void {
  const other = activeVersion(key);
  if (other && other.version !== v.version) {
    throw refuse(command, key, v, `version ${other.version} is active; rotate instead`);
  }
}

/** A version waiting for destruction must not come back into use: cancel the destruction first. */
function requireNoScheduledDestruction(command: LifecycleCommandName, key: Key, v: KeyVersion): void {
  if (v.destructionScheduledFor !== null && v.state !== 'destroyed') {
    throw refuse(command, key, v, `destruction is scheduled for ${v.destructionScheduledFor}; cancel it first`);
  }
}

// ---- activate, rotate ----

function activate({ data }: ActivateKey, key: Key): KeyEvent[] {
  const v = resolveVersion(key, data.version);
  requireTransition('activate', key, v, 'active', 'pre-activation');
  requireNoOtherActive('activate', key, v);
  requireNoScheduledDestruction('activate', key, v);
  return [
    {
      type: 'KeyVersionActivated',
      data: { keyId: key.keyId, version: v.version, activatedAt: data.now, ...usagePeriods(key, data.now) },
    },
  ];
}

function usagePeriods(key: Key, now: string): { protectUntil: string; processUntil: string } {
  return { protectUntil: addDays(now, key.policy.oupDays), processUntil: addDays(now, key.policy.rupDays) };
}

/**
 * Rotation is allowed whatever the states of the existing versions: rotating after a compromise,
 * a suspension or a destruction is exactly how one gets a usable key again. It adds version
 * max+1, active at once with the key's cryptoperiods; the version that was active (if any) is
 * deactivated by the same event and keeps processing inside its RUP. Versions in other states
 * keep them (a suspended one stays suspended until reactivated — refused while another is
 * active — or deactivated).
 */
function rotate({ data }: RotateKey, key: Key): KeyEvent[] {
  assertParentVersion(key, data.parentVersion);
  return [
    {
      type: 'KeyRotated',
      data: {
        keyId: key.keyId,
        material: { ...data.material, version: highestVersionNumber(key) + 1 },
        parentVersion: data.parentVersion,
        previousVersion: activeVersion(key)?.version ?? null,
        rotatedAt: data.now,
        ...usagePeriods(key, data.now),
      },
    },
  ];
}

/** A wrapped key must record which parent version wraps each of its versions; a root has none. */
function assertParentVersion(key: Key, parentVersion: number | null): void {
  const details = { keyId: key.keyId, parentKeyId: key.parentKeyId, parentVersion };
  if (key.parentKeyId === null && parentVersion !== null) {
    throw new InvalidParentError(`Key ${key.keyId} has no parent, so a new version has no parent version`, details);
  }
  const namesParentVersion = parentVersion !== null && Number.isInteger(parentVersion) && parentVersion >= 1;
  if (key.parentKeyId !== null && !namesParentVersion) {
    throw new InvalidParentError(`A new version of key ${key.keyId} must name the parent version that wraps it`, details);
  }
}

// ---- suspend, reactivate, deactivate ----

function suspend({ data }: SuspendKey, key: Key): KeyEvent[] {
  const v = resolveVersion(key, data.version);
  requireTransition('suspend', key, v, 'suspended');
  return [
    {
      type: 'KeyVersionSuspended',
      data: { keyId: key.keyId, version: v.version, suspendedAt: data.now, reason: data.reason ?? null },
    },
  ];
}

function reactivate({ data }: ReactivateKey, key: Key): KeyEvent[] {
  const v = resolveVersion(key, data.version);
  requireTransition('reactivate', key, v, 'active', 'suspended');
  requireNoOtherActive('reactivate', key, v);
  return [{ type: 'KeyVersionReactivated', data: { keyId: key.keyId, version: v.version, reactivatedAt: data.now } }];
}

function deactivate({ data }: DeactivateKey, key: Key): KeyEvent[] {
  const v = resolveVersion(key, data.version);
  requireTransition('deactivate', key, v, 'deactivated');
  return [
    {
      type: 'KeyVersionDeactivated',
      data: { keyId: key.keyId, version: v.version, deactivatedAt: data.now, reason: 'operator' },
    },
  ];
}

// ---- revoke ----

/**
 * KMIP-style revocation: `compromised` moves the version to compromised, or only flags a destroyed
 * one; the other reasons deactivate it, which the table allows from active and suspended only.
 */
function revoke(command: RevokeKey, key: Key): KeyEvent[] {
  const { data } = command;
  const v = resolveVersion(key, data.version);
  if (data.reason === 'compromised') return [revokedEvent(command, key, v, revokeAsCompromised(command, key, v))];
  if (data.compromisedAt !== undefined && data.compromisedAt !== null) {
    throw new InvalidInputError('compromisedAt applies only to reason compromised', { field: 'compromisedAt' });
  }
  if (!isRevocationReason(data.reason)) {
    throw new InvalidInputError(`Unknown revocation reason ${String(data.reason)}`, { field: 'reason' });
  }
  requireTransition('revoke', key, v, 'deactivated');
  return [revokedEvent(command, key, v, 'deactivated')];
}

function revokeAsCompromised({ data }: RevokeKey, key: Key, v: KeyVersion): 'compromised' | 'destroyed' {
  const compromisedAt = data.compromisedAt ?? data.now;
  if (instantMillis(compromisedAt, 'compromisedAt') > instantMillis(data.now)) {
    throw new InvalidInputError(`compromisedAt ${compromisedAt} is in the future`, { field: 'compromisedAt' });
  }
  if (v.compromised) throw refuse('revoke', key, v, 'already compromised');
  if (v.state === 'destroyed') return 'destroyed';
  requireTransition('revoke', key, v, 'compromised');
  return 'compromised';
}

function revokedEvent(
  { data }: RevokeKey,
  key: Key,
  v: KeyVersion,
  resultingState: 'compromised' | 'deactivated' | 'destroyed',
): KeyEvent {
  return {
    type: 'KeyVersionRevoked',
    data: {
      keyId: key.keyId,
      version: v.version,
      reason: data.reason,
      compromisedAt: data.reason === 'compromised' ? normalizeInstant(data.compromisedAt ?? data.now, 'compromisedAt') : null,
      revokedAt: data.now,
      resultingState,
    },
  };
}

function isRevocationReason(reason: string): boolean {
  return (REVOCATION_REASONS as readonly string[]).includes(reason);
}

// ---- destruction ----

function scheduleDestruction({ data }: ScheduleKeyDestruction, key: Key): KeyEvent[] {
  const v = resolveVersion(key, data.version);
  requireDestroyable('schedule-destruction', key, v);
  if (v.destructionScheduledFor !== null) {
    throw refuse('schedule-destruction', key, v, `destruction is already scheduled for ${v.destructionScheduledFor}`);
  }
  const days = validateWaitingPeriod(data.waitingPeriodDays, data.minimumWaitingPeriodDays);
  return [
    {
      type: 'KeyDestructionScheduled',
      data: {
        keyId: key.keyId,
        version: v.version,
        waitingPeriodDays: days,
        minimumWaitingPeriodDays: data.minimumWaitingPeriodDays,
        scheduledAt: data.now,
        scheduledFor: addDays(data.now, days),
      },
    },
  ];
}

function requireDestroyable(command: LifecycleCommandName, key: Key, v: KeyVersion): void {
  if (canTransition(v.state, 'destroyed')) return;
  const why =
    v.state === 'destroyed' ? 'it is already destroyed' : `deactivate it first: a ${v.state} version may not be destroyed`;
  throw refuse(command, key, v, why);
}

function cancelDestruction({ data }: CancelKeyDestruction, key: Key): KeyEvent[] {
  const v = resolveVersion(key, data.version);
  if (v.state === 'destroyed') throw refuse('cancel-destruction', key, v, 'it is already destroyed');
  if (v.destructionScheduledFor === null) throw refuse('cancel-destruction', key, v, 'no destruction is scheduled');
  return [{ type: 'KeyDestructionCancelled', data: { keyId: key.keyId, version: v.version, cancelledAt: data.now } }];
}

/**
 * The guard the destroy handler runs BEFORE asking the custodian to erase the material:
 * erasure cannot be undone, so every rule that could refuse KeyVersionDestroyed afterwards
 * (state, schedule, due date) is checked here first. Returns the version to destroy.
 */
export function assertCanDestroy(state: KeyState, version: number | undefined | null, now: string): KeyVersion {
  if (state.status === 'absent') throw new KeyNotFoundError('');
  const key = state.key;
  const v = resolveVersion(key, version);
  requireDestroyable('destroy', key, v);
  const scheduledFor = v.destructionScheduledFor;
  if (scheduledFor === null || instantMillis(now) < instantMillis(scheduledFor, 'destructionScheduledFor')) {
    throw new DestructionNotDueError(key.keyId, v.version, scheduledFor);
  }
  return v;
}

function destroy({ data }: DestroyKey, key: Key): KeyEvent[] {
  const v = assertCanDestroy({ status: 'present', key }, data.version, data.now);
  assertEvidence(data.evidence, key, v);
  return [
    {
      type: 'KeyVersionDestroyed',
      data: { keyId: key.keyId, version: v.version, destroyedAt: data.now, evidence: { ...data.evidence } },
    },
  ];
}

/** Evidence about some other object, or without a verified absence, proves nothing (SPEC §3). */
function assertEvidence(evidence: DestroyKey['data']['evidence'], key: Key, v: KeyVersion): void {
  if (evidence.custodian !== key.custodian || evidence.materialRef !== v.materialRef) {
    throw new InvalidInputError(`Destruction evidence does not name the material of version ${v.version}`, {
      field: 'evidence',
    });
  }
  if (evidence.verifiedAbsent !== true) throw refuse('destroy', key, v, 'custodian did not verify absence');
}

/** Metadata changes are allowed in every state: the inventory must say what a key protects. */
function updateMetadata({ data }: UpdateKeyMetadata, key: Key): KeyEvent[] {
  instantMillis(data.now);
  if (data.classifications === undefined && data.vendors === undefined) {
    throw new InvalidInputError('Give classifications, vendors or both', { keyId: key.keyId });
  }
  const classifications = data.classifications === undefined ? [...key.classifications] : uniqueClassifications(data.classifications);
  const vendors = data.vendors === undefined ? [...key.vendors] : [...data.vendors];
  const names = vendors.map((v) => v.name);
  if (new Set(names).size !== names.length) throw new InvalidInputError('Each vendor may be listed once', { keyId: key.keyId });
  return [{ type: 'KeyMetadataUpdated', data: { keyId: key.keyId, classifications, vendors, updatedAt: data.now } }];
}
