/**
 * The rewrap job of a KEK (SPEC §3: rotating a KEK rewraps every DEK under the new version).
 * Its events live on a stream per KEK, apart from the key streams: a job never conflicts with
 * lifecycle commands, and two processes running the same job conflict on this stream only (the
 * loser stops). They carry identifiers and versions, never material.
 */
export const dekRewrapStream = (kekId: string): string => `dek-rewrap-${kekId}`;
export const isDekRewrapStream = (streamId: string): boolean => streamId.startsWith('dek-rewrap-');

export {
  DEK_REWRAP_EVENT_TYPES,
  isDekRewrapEvent,
  type DekRewrapCompleted,
  type DekRewrapEvent,
  type DekRewrapSkipped,
  type DekRewrapStarted,
  type DekRewrapped,
} from '@keyledger/domain';
