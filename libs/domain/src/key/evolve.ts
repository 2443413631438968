import type { KeyEvent, KeyGenerated, KeyRotated, KeyVersionRevoked, NewVersionMaterial } from './events.js';
import { initialKeyState, type Key, type KeyState, type KeyVersion } from './state.js';
import { currentVersionNumber } from './versions.js';

/**
 * evolve(state, event) → state. It trusts events (the decider already checked the rules) and
 * throws only when the stream itself is impossible (an event before KeyGenerated, a second
 * KeyGenerated, a version that does not exist): replaying such a stream silently would hide
 * corruption that the audit trail must reveal.
 */
export function evolveKey(state: KeyState, event: KeyEvent): KeyState {
  if (event.type === 'KeyGenerated') {
    if (state.status === 'present') throw corrupt(event, `key ${state.key.keyId} was already generated`);
    return { status: 'present', key: keyFromGenerated(event) };
  }
  if (state.status === 'absent') throw corrupt(event, 'the key was not generated yet');
  return { status: 'present', key: evolvePresentKey(state.key, event) };
}

export function foldKey(events: readonly KeyEvent[]): KeyState {
  return events.reduce(evolveKey, initialKeyState());
}

function evolvePresentKey(key: Key, event: Exclude<KeyEvent, KeyGenerated>): Key {
  switch (event.type) {
    case 'KeyVersionActivated': {
      const { version, activatedAt, protectUntil, processUntil } = event.data;
      return patchVersion(key, version, { state: 'active', activatedAt, protectUntil, processUntil });
    }
    case 'KeyRotated':
      return rotated(key, event);
    case 'KeyVersionSuspended':
      return patchVersion(key, event.data.version, { state: 'suspended' });
    case 'KeyVersionReactivated':
      return patchVersion(key, event.data.version, { state: 'active' });
    case 'KeyVersionDeactivated':
      return patchVersion(key, event.data.version, { state: 'deactivated', deactivatedAt: event.data.deactivatedAt });
    case 'KeyVersionRevoked':
      return patchVersion(key, event.data.version, revocationPatch(event));
    case 'KeyDestructionScheduled':
      return patchVersion(key, event.data.version, { destructionScheduledFor: event.data.scheduledFor });
    case 'KeyDestructionCancelled':
      return patchVersion(key, event.data.version, { destructionScheduledFor: null });
    case 'KeyVersionDestroyed':
      return patchVersion(key, event.data.version, { state: 'destroyed', destroyedAt: event.data.destroyedAt });
    case 'KeyMetadataUpdated':
      return { ...key, classifications: event.data.classifications, vendors: event.data.vendors };
    default: {
      const _exhaustive: never = event;
      throw new Error(`Unknown key event ${JSON.stringify(_exhaustive)}`);
    }
  }
}

function keyFromGenerated({ data }: KeyGenerated): Key {
  const first = newVersion(data.material, data.parentVersion, data.generatedAt);
  return {
    keyId: data.keyId,
    tenantId: data.tenantId,
    purpose: data.purpose,
    algorithm: data.algorithm,
    custodian: data.custodian,
    parentKeyId: data.parentKeyId,
    label: data.label,
    classifications: [...data.classifications],
    vendors: [...data.vendors],
    policy: data.policy,
    currentVersion: first.version,
    versions: [first],
    createdAt: data.generatedAt,
    lastRotatedAt: null,
  };
}

/** Rotation adds an active version and deactivates the one that was active, in one event. */
function rotated(key: Key, { data }: KeyRotated): Key {
  const added: KeyVersion = {
    ...newVersion(data.material, data.parentVersion, data.rotatedAt),
    state: 'active',
    activatedAt: data.rotatedAt,
    protectUntil: data.protectUntil,
    processUntil: data.processUntil,
  };
  const withPrevious =
    data.previousVersion === null
      ? key
      : patchVersion(key, data.previousVersion, { state: 'deactivated', deactivatedAt: data.rotatedAt });
  return withVersions(withPrevious, [...withPrevious.versions, added], { lastRotatedAt: data.rotatedAt });
}

function revocationPatch({ data }: KeyVersionRevoked): Partial<KeyVersion> {
  switch (data.resultingState) {
    case 'compromised':
      return { state: 'compromised', compromised: true, compromisedAt: data.compromisedAt };
    case 'destroyed':
      // A compromise reported after destruction only sets the flag (KMIP Destroyed Compromised).
      return { compromised: true, compromisedAt: data.compromisedAt };
    case 'deactivated':
      return { state: 'deactivated', deactivatedAt: data.revokedAt };
    default: {
      const _exhaustive: never = data.resultingState;
      throw new Error(`Unknown revocation result ${String(_exhaustive)}`);
    }
  }
}

function newVersion(material: NewVersionMaterial, parentVersion: number | null, createdAt: string): KeyVersion {
  return {
    version: material.version,
    state: 'pre-activation',
    compromised: false,
    compromisedAt: null,
    materialRef: material.materialRef,
    fingerprint: material.fingerprint,
    parentVersion,
    createdAt,
    activatedAt: null,
    deactivatedAt: null,
    protectUntil: null,
    processUntil: null,
    destructionScheduledFor: null,
    destroyedAt: null,
  };
}

function patchVersion(key: Key, version: number, patch: Partial<KeyVersion>): Key {
  if (!key.versions.some((v) => v.version === version)) {
    throw new Error(`Impossible key stream: key ${key.keyId} has no version ${version}`);
  }
  const versions = key.versions.map((v) => (v.version === version ? { ...v, ...patch } : v));
  return withVersions(key, versions);
}

/** Every version change recomputes currentVersion, so it can never drift from the versions. */
function withVersions(key: Key, versions: readonly KeyVersion[], extra: Partial<Key> = {}): Key {
  return { ...key, ...extra, versions, currentVersion: currentVersionNumber({ versions }) };
}

function corrupt(event: KeyEvent, why: string): Error {
  return new Error(`Impossible key stream: ${event.type} cannot apply because ${why}`);
}
