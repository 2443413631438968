import type { CheckpointHead } from '../checkpoint/checkpoint.js';
import type { Failure } from './failures.js';

export interface CheckpointSummary {
  readonly sequence: number;
  readonly treeSize: number;
  readonly lastPosition: number;
  readonly rootHash: string;
  readonly signedAt: string;
  readonly keyId: string;
}

/** The answer of `audit verify` and `GET /v1/audit/verify`. */
export interface VerifyReport {
  readonly intact: boolean;
  /** One line: "intact up to position P, checkpoint #C" or the first failure. */
  readonly summary: string;
  /** Stored events compared with the hash a checkpoint sealed for them. */
  readonly eventsChecked: number;
  /** Events after the last checkpoint: not sealed yet, so not covered (the next checkpoint will). */
  readonly unsealedEvents: number;
  /** Events that could not be compared because the checkpoint that sealed them is missing or damaged. */
  readonly uncheckedEvents: number;
  readonly checkpoints: number;
  readonly lastCheckpoint: CheckpointSummary | null;
  /** Everything up to this position (and this checkpoint) verified, before the first failure. */
  readonly intactThrough: { readonly position: number; readonly checkpoint: number | null };
  /** The first failures found (at most 100), in the order found. */
  readonly failures: readonly Failure[];
  readonly failureCount: number;
  readonly trustedKeyIds: readonly string[];
}

export const checkpointSummary = (head: CheckpointHead): CheckpointSummary => ({
  sequence: head.sequence,
  treeSize: head.treeSize,
  lastPosition: head.lastPosition,
  rootHash: head.rootHash,
  signedAt: head.signedAt,
  keyId: head.keyId,
});

export function summarize(report: Omit<VerifyReport, 'summary'>): string {
  const unsealed = report.unsealedEvents > 0 ? `; ${report.unsealedEvents} later event${report.unsealedEvents === 1 ? ' is' : 's are'} not sealed yet` : '';
  if (report.intact && !report.lastCheckpoint) return `no checkpoint yet: nothing is sealed${unsealed}`;
  if (report.intact) {
    const c = report.lastCheckpoint!;
    return `intact up to position ${c.lastPosition}, checkpoint #${c.sequence} (${c.treeSize} events, root ${c.rootHash})${unsealed}`;
  }
  const through = report.intactThrough;
  const intactPart = through.checkpoint === null ? `intact up to position ${through.position}` : `intact up to position ${through.position} (checkpoint #${through.checkpoint})`;
  const more = report.failureCount > 1 ? `; ${report.failureCount - 1} more failure${report.failureCount === 2 ? '' : 's'}` : '';
  return `FAILED: ${report.failures[0]?.message ?? 'verification failed'}; ${intactPart}${more}`;
}
