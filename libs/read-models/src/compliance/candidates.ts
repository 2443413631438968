/**
 * Which keys a compliance rule may fire on, as conditions on the inventory's columns, so that a
 * report reads those keys only (a healthy estate has few) instead of every document. Each
 * adapter turns this list into SQL; the rules still check every condition themselves, so a
 * candidate too many costs time, never a wrong finding.
 */
export const SENSITIVE_CLASSES: readonly string[] = ['sud-42cfr2', 'controlled-substance'];

export type CandidateCondition =
  /** rotation overdue */
  | 'rotation-due-before-now'
  /** no annual ceremony, cryptoperiod deviation */
  | 'root'
  /** data protected after a compromise */
  | 'compromised'
  | 'child-of-compromised'
  /** destruction without evidence */
  | 'lacks-destruction-evidence'
  /** classification missing */
  | 'live-unclassified'
  /** vendor rules */
  | 'live-with-vendors'
  /** sensitive data outside an HSM */
  | 'live-sensitive-in-software'
  /** tenant without its own KEK */
  | 'live-dek-of-tenant-without-active-kek';

export const CANDIDATE_CONDITIONS: readonly CandidateCondition[] = [
  'rotation-due-before-now',
  'root',
  'compromised',
  'child-of-compromised',
  'lacks-destruction-evidence',
  'live-unclassified',
  'live-with-vendors',
  'live-sensitive-in-software',
  'live-dek-of-tenant-without-active-kek',
];
