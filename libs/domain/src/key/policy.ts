import { CryptoperiodPolicyError, InvalidInputError, WaitingPeriodError } from '../errors.js';
import type { CryptoperiodPolicy, KeyPurpose } from './types.js';

// ---- Cryptoperiods (SPEC §3, SP 800-57 Part 1 Rev. 5 §5.3.6 and Table 1) ----

/** Default originator-usage periods: DEK 90 days, KEK 1 year, root 2 years. */
export const DEFAULT_OUP_DAYS: Readonly<Record<KeyPurpose, number>> = { dek: 90, kek: 365, root: 730 };

/** The recipient-usage period outlasts the OUP by 3 years, Table 1's maximum for symmetric keys. */
export const RUP_EXTENSION_DAYS = 1095;

/** Table 1: symmetric data-encryption and key-wrapping keys protect for at most 2 years. */
export const TABLE1_MAX_OUP_DAYS = 730;

/** A root's OUP may be stretched to the seed's 5 years, as a documented deviation from Table 1. */
export const ROOT_MAX_OUP_DAYS = 1826;

export function maximumOupDays(purpose: KeyPurpose): number {
  return purpose === 'root' ? ROOT_MAX_OUP_DAYS : TABLE1_MAX_OUP_DAYS;
}

/**
 * The cryptoperiod policy of a new key. `cryptoperiodDays` overrides the default OUP; overrides
 * beyond the maxima are refused rather than clamped, so that nobody believes they got what they asked.
 */
export function resolveCryptoperiod(purpose: KeyPurpose, cryptoperiodDays: number | null): CryptoperiodPolicy {
  const oupDays = cryptoperiodDays ?? DEFAULT_OUP_DAYS[purpose];
  if (!Number.isInteger(oupDays) || oupDays <= 0) {
    throw new InvalidInputError(`cryptoperiodDays must be a positive integer, got ${String(cryptoperiodDays)}`, {
      field: 'cryptoperiodDays',
    });
  }
  const maximumDays = maximumOupDays(purpose);
  if (oupDays > maximumDays) {
    throw new CryptoperiodPolicyError(
      `A ${purpose} may protect for at most ${maximumDays} days (SP 800-57 Part 1 Table 1${
        purpose === 'root' ? ' with the documented root deviation' : ''
      }), got ${oupDays}`,
      { purpose, requestedDays: oupDays, maximumDays },
    );
  }
  return { oupDays, rupDays: oupDays + RUP_EXTENSION_DAYS, deviation: deviationOf(purpose, oupDays) };
}

function deviationOf(purpose: KeyPurpose, oupDays: number): string | null {
  if (purpose !== 'root' || oupDays <= TABLE1_MAX_OUP_DAYS) return null;
  return (
    `Root originator-usage period of ${oupDays} days exceeds the SP 800-57 Part 1 Table 1 maximum of ` +
    `${TABLE1_MAX_OUP_DAYS} days (2 years); documented deviation allowed for root keys up to ` +
    `${ROOT_MAX_OUP_DAYS} days (5 years).`
  );
}

// ---- Destruction waiting period (SPEC §3) ----

export const DESTRUCTION_WAIT_DEFAULT_DAYS = 7;
export const DESTRUCTION_WAIT_MIN_DAYS = 7;
export const DESTRUCTION_WAIT_MAX_DAYS = 30;

/**
 * Checks a waiting period against the minimum in force. `minimumDays` is 7 unless an operator
 * lowered it (KEYLEDGER_DESTRUCTION_WAIT_MIN_DAYS) for test deployments; it can never be raised
 * above 7 or made negative, so a misconfiguration cannot forbid or backdate destruction.
 * Returns the validated number of days.
 */
export function validateWaitingPeriod(days: number, minimumDays: number = DESTRUCTION_WAIT_MIN_DAYS): number {
  if (!Number.isInteger(minimumDays) || minimumDays < 0 || minimumDays > DESTRUCTION_WAIT_MIN_DAYS) {
    throw new InvalidInputError(
      `The minimum destruction waiting period must be an integer from 0 to ${DESTRUCTION_WAIT_MIN_DAYS} days, got ${String(minimumDays)}`,
      { field: 'minimumWaitingPeriodDays' },
    );
  }
  if (!Number.isInteger(days) || days < minimumDays || days > DESTRUCTION_WAIT_MAX_DAYS) {
    throw new WaitingPeriodError(days, minimumDays, DESTRUCTION_WAIT_MAX_DAYS);
  }
  return days;
}
