import { VersionNotFoundError } from '../errors.js';
import type { Key, KeyVersion } from './state.js';

/** The version a command or use names, or the key's current version when it names none. */
export function resolveVersion(key: Key, version?: number | null): KeyVersion {
  const wanted = version ?? key.currentVersion;
  const found = key.versions.find((v) => v.version === wanted);
  if (!found) throw new VersionNotFoundError(key.keyId, wanted);
  return found;
}

/** The version that protects. The decider keeps at most one version active at a time. */
export function activeVersion(key: Pick<Key, 'versions'>): KeyVersion | undefined {
  return key.versions.find((v) => v.state === 'active');
}

export function highestVersionNumber(key: Pick<Key, 'versions'>): number {
  return key.versions.reduce((max, v) => Math.max(max, v.version), 0);
}

/** SPEC wire field `currentVersion`: the active version if any, else the newest one. */
export function currentVersionNumber(key: Pick<Key, 'versions'>): number {
  return activeVersion(key)?.version ?? highestVersionNumber(key);
}
