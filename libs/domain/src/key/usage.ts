import { UsageNotAllowedError } from '../errors.js';
import { instantMillis } from '../time.js';
import type { Key, KeyVersion } from './state.js';
import { resolveVersion } from './versions.js';

/** protect = encrypt, wrap, generate a data key, distribute; process = decrypt, unwrap (SPEC §3). */
export type KeyUsage = 'protect' | 'process';

/**
 * The protect/process table of SPEC §3 (SP 800-57 §5.3: a deactivated key may still process).
 * Returns the version allowed to act, or throws UsageNotAllowedError saying why.
 * Without `version` both usages take the current version; callers processing a ciphertext
 * should pass the version the ciphertext names.
 */
export function checkUsage(key: Key, usage: KeyUsage, now: string, version?: number | null): KeyVersion {
  const target = resolveVersion(key, version);
  const refusal = refusalReason(target, usage, instantMillis(now));
  if (refusal !== null) throw new UsageNotAllowedError(key.keyId, target.version, usage, refusal);
  return target;
}

function refusalReason(v: KeyVersion, usage: KeyUsage, nowMillis: number): string | null {
  switch (v.state) {
    case 'pre-activation':
      return 'it is pre-activation (not activated yet)';
    case 'suspended':
      return 'it is suspended';
    case 'compromised':
      return 'it is compromised';
    case 'destroyed':
      return `it is destroyed${v.compromised ? ' (and was compromised)' : ''}; its material is gone`;
    case 'active':
      return usage === 'protect' ? outsidePeriod(v.protectUntil, 'originator', nowMillis) : outsideRup(v, nowMillis);
    case 'deactivated':
      return usage === 'protect' ? 'it is deactivated: it may only process (decrypt, unwrap)' : outsideRup(v, nowMillis);
    default: {
      const _exhaustive: never = v.state;
      return _exhaustive;
    }
  }
}

function outsideRup(v: KeyVersion, nowMillis: number): string | null {
  return outsidePeriod(v.processUntil, 'recipient', nowMillis);
}

function outsidePeriod(until: string | null, kind: 'originator' | 'recipient', nowMillis: number): string | null {
  if (until === null) return `it has no ${kind}-usage period`;
  if (nowMillis < instantMillis(until, 'until')) return null;
  return `its ${kind}-usage period ended at ${until}`;
}
