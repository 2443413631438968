/**
 * What a verification can find wrong, with stable kinds. Each failure says where (position,
 * checkpoint, or bundle file and line) and, in words, what happened.
 */
export type FailureKind =
  // an event of the log or of a bundle
  | 'event-modified'
  | 'event-deleted'
  | 'event-inserted'
  | 'event-moved'
  | 'log-truncated'
  // a checkpoint
  | 'checkpoint-malformed'
  | 'checkpoint-untrusted-key'
  | 'checkpoint-bad-signature'
  | 'checkpoint-missing'
  | 'checkpoint-out-of-order'
  | 'checkpoint-inconsistent'
  | 'checkpoint-root-mismatch'
  | 'checkpoint-chain-mismatch'
  // a bundle's own structure
  | 'bundle-malformed'
  | 'bundle-file-altered'
  | 'proof-invalid';

export interface Failure {
  readonly kind: FailureKind;
  readonly message: string;
  /** The event's position (or the first of a range). */
  readonly position?: number;
  /** The last position of a range of events. */
  readonly toPosition?: number;
  readonly count?: number;
  readonly eventId?: string;
  readonly streamId?: string;
  readonly type?: string;
  /** The checkpoint's sequence number. */
  readonly checkpoint?: number;
  /** Where a moved event was sealed. */
  readonly sealedAtPosition?: number;
  /** In a bundle: the file and 1-based line. */
  readonly file?: string;
  readonly line?: number;
}

/** Failures in the order found, keeping the first `limit` and counting the rest. */
export class FailureList {
  private readonly kept: Failure[] = [];
  private total = 0;

  constructor(private readonly limit = 100) {}

  add(failure: Failure): void {
    this.total += 1;
    if (this.kept.length < this.limit) this.kept.push(failure);
  }

  /** The last failure kept, when nothing was dropped after it. */
  get last(): Failure | undefined {
    return this.total === this.kept.length ? this.kept[this.kept.length - 1] : undefined;
  }

  /** Replaces the last failure (to grow a range of deleted events rather than list each one). */
  replaceLast(failure: Failure): void {
    if (this.last) this.kept[this.kept.length - 1] = failure;
  }

  /** Rewrites the kept failures (used to classify them once the whole log was read). */
  rewrite(update: (failures: Failure[]) => Failure[]): void {
    const before = this.kept.length;
    const after = update([...this.kept]);
    this.total += after.length - before;
    this.kept.splice(0, this.kept.length, ...after);
  }

  get first(): Failure | undefined {
    return this.kept[0];
  }

  get count(): number {
    return this.total;
  }

  get items(): readonly Failure[] {
    return this.kept;
  }
}

/** "event at position 42 (KeyRotated of key-…, id …)" */
export function describeEvent(position: number, event?: { eventId: string; streamId: string; type: string }): string {
  return event ? `event at position ${position} (${event.type} on ${event.streamId}, id ${event.eventId})` : `event at position ${position}`;
}
