import type { RecordedEvent } from '@keyledger/event-store';
import { fromHex, toHex } from '../hashes.js';
import { foldFrontier, MerkleFrontier } from '../merkle/frontier.js';
import { CHAIN_START, nextChainHash, recordedEventLeafHash } from '../sealed-event.js';
import { CHECKPOINT_STREAM, parseCheckpointRecord, type CheckpointHead, type CheckpointRecord } from '../checkpoint/checkpoint.js';
import { checkSignature } from '../checkpoint/signature.js';
import type { TrustedKeys } from '../signer/ed25519.js';
import { Cursor } from './event-cursor.js';
import { describeEvent, FailureList, type Failure } from './failures.js';
import { MisplacedEvents } from './misplaced-events.js';
import { checkpointSummary, summarize, type VerifyReport } from './report.js';

export interface SealedLogInput {
  /** Every event of the log in position order; the checkpoint stream's own events are skipped. */
  readonly events: AsyncIterable<RecordedEvent>;
  /** The checkpoint stream in revision order. */
  readonly checkpoints: AsyncIterable<RecordedEvent>;
  readonly trustedKeys: TrustedKeys;
  /** A checkpoint known from elsewhere (an earlier report or bundle): it must still be in the log, unchanged. */
  readonly expectedCheckpoint?: ExpectedCheckpoint;
}

export interface ExpectedCheckpoint {
  readonly sequence: number;
  readonly rootHash?: string;
}

/**
 * Verifies a log against its checkpoints in one streaming pass (memory: one page of events and
 * one checkpoint's batch).
 *
 * Each checkpoint carries the leaf hashes of the events it sealed. The verifier checks that the
 * checkpoint is signed by a trusted key and that its batch takes the tree of the previous
 * checkpoints to exactly its signed root and chain hash, which proves the recorded leaf hashes
 * are the signed ones. It then compares every stored event, by position, with the leaf hash
 * sealed for that position: another hash is a modified event, a sealed position without an event
 * a deleted one, and an event at a position no checkpoint sealed (below the last sealed one) an
 * inserted one.
 */
export async function verifySealedLog(input: SealedLogInput): Promise<VerifyReport> {
  const verification = new SealedLogVerification(input.trustedKeys, new Cursor(logEventsOnly(input.events)), input.expectedCheckpoint);
  for await (const checkpoint of input.checkpoints) await verification.checkpoint(checkpoint);
  await verification.finish();
  return verification.report();
}

async function* logEventsOnly(events: AsyncIterable<RecordedEvent>): AsyncIterable<RecordedEvent> {
  for await (const event of events) if (event.streamId !== CHECKPOINT_STREAM) yield event;
}

class SealedLogVerification {
  private readonly failures = new FailureList();
  private readonly misplaced = new MisplacedEvents();
  private tree = MerkleFrontier.empty();
  private chain = CHAIN_START;
  /** False after a missing or unusable checkpoint, until a later one lets us resume from its frontier. */
  private treeKnown = true;
  private expectedSequence = 1;
  private sealedPosition = 0;
  private newest: CheckpointHead | null = null;
  private checkpointsRead = 0;
  private eventsChecked = 0;
  private uncheckedEvents = 0;
  private unsealedEvents = 0;
  private intactThrough: { position: number; checkpoint: number | null } = { position: 0, checkpoint: null };
  private lastMatchedPosition = 0;
  private previousLeafDeleted = false;
  private expectedSeen = false;

  constructor(
    private readonly trusted: TrustedKeys,
    private readonly events: Cursor<RecordedEvent>,
    private readonly expected: ExpectedCheckpoint | undefined,
  ) {}

  async checkpoint(event: RecordedEvent): Promise<void> {
    this.checkpointsRead += 1;
    const failuresBefore = this.failures.count;
    const parsed = parseCheckpointRecord(event.data);
    if (!parsed.ok) return this.unusableCheckpoint(event, parsed.reason);
    const { record } = parsed;
    const treeWasKnown = this.treeKnown;
    this.checkHeader(record, event);
    this.checkExpected(record.head);
    this.checkBatchStart(record);
    if (!treeWasKnown || !this.treeKnown) await this.skipUnverifiable(record.leaves[0]?.[0] ?? record.head.lastPosition + 1);
    for (const [position, leafHash] of record.leaves) await this.compareLeaf(position, fromHex(leafHash), record.head.sequence);
    this.checkBatchAgainstHead(record);
    this.resumeFromRecordIfNeeded(record);
    this.expectedSequence = record.head.sequence + 1;
    this.sealedPosition = Math.max(this.sealedPosition, record.head.lastPosition);
    this.newest = record.head;
    this.noteIntact(record.head, failuresBefore);
  }

  async finish(): Promise<void> {
    for (let event = await this.events.next(); event; event = await this.events.next()) {
      if (event.position <= this.sealedPosition) this.inserted(event);
      else this.unsealed(event);
    }
    this.recogniseTruncation();
    this.failures.rewrite((failures) => this.misplaced.reclassify(failures));
    if (this.expected && !this.expectedSeen) {
      this.fail({
        kind: 'checkpoint-missing',
        checkpoint: this.expected.sequence,
        message: `checkpoint #${this.expected.sequence}, known from outside the log, is no longer in it: the log was truncated or rolled back`,
      });
    }
  }

  report(): VerifyReport {
    const intact = this.failures.count === 0;
    const partial = {
      intact,
      eventsChecked: this.eventsChecked,
      unsealedEvents: this.unsealedEvents,
      uncheckedEvents: this.uncheckedEvents,
      checkpoints: this.checkpointsRead,
      lastCheckpoint: this.newest ? checkpointSummary(this.newest) : null,
      intactThrough: intact && this.newest ? { position: this.newest.lastPosition, checkpoint: this.newest.sequence } : this.intactThrough,
      failures: [...this.failures.items],
      failureCount: this.failures.count,
      trustedKeyIds: this.trusted.keyIds,
    };
    return { ...partial, summary: summarize(partial) };
  }

  // ── checkpoints ─────────────────────────────────────────────────────────

  private unusableCheckpoint(event: RecordedEvent, reason: string): void {
    const sequence = event.revision + 1;
    this.fail({
      kind: 'checkpoint-malformed',
      checkpoint: sequence,
      position: event.position,
      message: `checkpoint #${sequence} (event at position ${event.position}) is not a valid checkpoint record: ${reason}`,
    });
    this.treeKnown = false;
    this.expectedSequence = sequence + 1;
  }

  private checkHeader({ head, signature }: CheckpointRecord, event: RecordedEvent): void {
    const { sequence } = head;
    if (sequence !== event.revision + 1) {
      this.fail({
        kind: 'checkpoint-out-of-order',
        checkpoint: sequence,
        position: event.position,
        message: `checkpoint #${sequence} is stored as checkpoint #${event.revision + 1}: checkpoints were reordered or renumbered`,
      });
    }
    if (sequence > this.expectedSequence) this.missingCheckpoints(sequence);
    else if (sequence < this.expectedSequence) {
      this.fail({ kind: 'checkpoint-out-of-order', checkpoint: sequence, message: `checkpoint #${sequence} appears again after checkpoint #${this.expectedSequence - 1}` });
    }
    const signatureCheck = checkSignature({ head, signature }, this.trusted);
    if (signatureCheck === 'untrusted-key') {
      this.fail({ kind: 'checkpoint-untrusted-key', checkpoint: sequence, message: `checkpoint #${sequence} is signed by key ${head.keyId}, which is not a trusted audit signing key` });
    } else if (signatureCheck === 'bad-signature') {
      this.fail({ kind: 'checkpoint-bad-signature', checkpoint: sequence, message: `checkpoint #${sequence} has a signature that does not verify with key ${head.keyId}: the checkpoint was altered or forged` });
    }
  }

  private checkExpected(head: CheckpointHead): void {
    if (!this.expected || head.sequence !== this.expected.sequence) return;
    this.expectedSeen = true;
    if (this.expected.rootHash === undefined || this.expected.rootHash === head.rootHash) return;
    this.fail({
      kind: 'checkpoint-root-mismatch',
      checkpoint: head.sequence,
      message: `checkpoint #${head.sequence} now signs root ${head.rootHash}, but it was known with root ${this.expected.rootHash}: the log was rewritten`,
    });
  }

  private missingCheckpoints(sequence: number): void {
    const count = sequence - this.expectedSequence;
    const which = count > 1 ? `checkpoints #${this.expectedSequence} to #${sequence - 1} are` : `checkpoint #${this.expectedSequence} is`;
    this.fail({ kind: 'checkpoint-missing', checkpoint: this.expectedSequence, count, message: `${which} missing before checkpoint #${sequence}` });
    this.treeKnown = false;
  }

  private checkBatchStart({ head, leaves }: CheckpointRecord): void {
    const start = head.treeSize - leaves.length;
    if (!this.treeKnown || start === this.tree.size) return;
    this.fail({
      kind: 'checkpoint-inconsistent',
      checkpoint: head.sequence,
      message: `checkpoint #${head.sequence} says its ${leaves.length} events follow tree index ${start}, but the checkpoints before it end at ${this.tree.size}`,
    });
    this.treeKnown = false;
  }

  /** The batch must take the tree from the previous checkpoint to exactly the signed head. */
  private checkBatchAgainstHead({ head, leaves }: CheckpointRecord): void {
    const lastLeafPosition = leaves.length > 0 ? leaves[leaves.length - 1]![0] : null;
    if (lastLeafPosition !== null && lastLeafPosition !== head.lastPosition) {
      this.fail({ kind: 'checkpoint-inconsistent', checkpoint: head.sequence, message: `checkpoint #${head.sequence} signs last position ${head.lastPosition} but its last sealed event is at ${lastLeafPosition}` });
    }
    if (!this.treeKnown) return;
    const root = toHex(this.tree.root());
    if (root !== head.rootHash) {
      this.fail({
        kind: 'checkpoint-root-mismatch',
        checkpoint: head.sequence,
        message: `checkpoint #${head.sequence}: its sealed leaf hashes give the root ${root}, not the signed root ${head.rootHash}: the checkpoint's record was altered, or the signed head does not describe it`,
      });
    } else if (toHex(this.chain) !== head.chainHash) {
      this.fail({ kind: 'checkpoint-chain-mismatch', checkpoint: head.sequence, message: `checkpoint #${head.sequence}: the hash chain gives ${toHex(this.chain)}, not the signed chain hash ${head.chainHash}` });
    }
  }

  /**
   * When the tree could not be rebuilt up to this checkpoint (one missing or damaged before it,
   * or this one's batch does not add up), resume from this checkpoint's own frontier if it
   * produces its signed root, so that the checkpoints after it are still checked on their own.
   */
  private resumeFromRecordIfNeeded({ head, frontier }: CheckpointRecord): void {
    if (this.treeKnown && toHex(this.tree.root()) === head.rootHash && toHex(this.chain) === head.chainHash) return;
    try {
      const nodes = frontier.map(fromHex);
      if (toHex(foldFrontier(nodes)) !== head.rootHash) throw new RangeError('the frontier does not produce the root');
      this.tree = MerkleFrontier.resume(head.treeSize, nodes);
      this.chain = fromHex(head.chainHash);
      this.treeKnown = true;
    } catch {
      this.treeKnown = false;
    }
  }

  /**
   * Moves "intact through" forward while nothing failed. When the first failure is an event of
   * this batch and the batch still produced the signed root, the events matched before it are
   * verified too; when the checkpoint itself failed, only the previous checkpoints are.
   */
  private noteIntact(head: CheckpointHead, failuresBefore: number): void {
    if (failuresBefore > 0) return;
    if (this.failures.count === 0) {
      this.intactThrough = { position: head.lastPosition, checkpoint: head.sequence };
      return;
    }
    const checkpointFailed = this.failures.items.some((failure) => failure.kind.startsWith('checkpoint-'));
    if (!checkpointFailed) this.intactThrough = { ...this.intactThrough, position: this.lastMatchedPosition };
  }

  // ── events ──────────────────────────────────────────────────────────────

  /** Compares the stored event at `position` (and any unsealed one before it) with the sealed leaf hash. */
  private async compareLeaf(position: number, sealed: Buffer, checkpoint: number): Promise<void> {
    for (let next = await this.events.peek(); next && next.position < position; next = await this.events.peek()) {
      this.inserted((await this.events.next())!);
    }
    if (this.treeKnown) {
      this.tree.append(sealed);
      this.chain = nextChainHash(this.chain, sealed);
    }
    const stored = await this.events.peek();
    if (stored?.position !== position) return this.deleted(position, sealed, checkpoint);
    this.previousLeafDeleted = false;
    await this.events.next();
    this.eventsChecked += 1;
    if (recordedEventLeafHash(stored).equals(sealed)) {
      if (this.failures.count === 0) this.lastMatchedPosition = position;
      return;
    }
    const index = this.fail({
      kind: 'event-modified',
      position,
      eventId: stored.eventId,
      streamId: stored.streamId,
      type: stored.type,
      checkpoint,
      message: `${describeEvent(position, stored)} was modified: it no longer matches the hash sealed by checkpoint #${checkpoint}`,
    });
    this.misplaced.sealedAt(position, sealed, index);
    this.misplaced.storedAt(stored, index);
  }

  /** Consecutive deleted events (in tree order) make one failure with a range. */
  private deleted(position: number, sealed: Buffer, checkpoint: number): void {
    const last = this.failures.last;
    if (this.previousLeafDeleted && last?.kind === 'event-deleted') {
      const count = (last.count ?? 1) + 1;
      this.failures.replaceLast({
        ...last,
        toPosition: position,
        count,
        checkpoint,
        message: `the ${count} events at positions ${last.position} to ${position} were deleted: checkpoints up to #${checkpoint} sealed them and they are no longer in the log`,
      });
      this.misplaced.sealedAt(position, sealed, this.failures.items.length - 1);
    } else {
      const index = this.fail({
        kind: 'event-deleted',
        position,
        count: 1,
        checkpoint,
        message: `${describeEvent(position)} was deleted: checkpoint #${checkpoint} sealed it and it is no longer in the log`,
      });
      this.misplaced.sealedAt(position, sealed, index);
    }
    this.previousLeafDeleted = true;
  }

  private inserted(event: RecordedEvent): void {
    this.previousLeafDeleted = false;
    const index = this.fail({
      kind: 'event-inserted',
      position: event.position,
      eventId: event.eventId,
      streamId: event.streamId,
      type: event.type,
      message: `${describeEvent(event.position, event)} was inserted: no checkpoint sealed an event at this position`,
    });
    this.misplaced.storedAt(event, index);
  }

  /** After the last checkpoint: not sealed yet, unless it is a sealed event pushed there. */
  private unsealed(event: RecordedEvent): void {
    this.unsealedEvents += 1;
    if (this.misplaced.anySealedFailed) this.misplaced.storedAt(event, null);
  }

  /** Events between two checkpoints whose record is missing cannot be compared with anything. */
  private async skipUnverifiable(beforePosition: number): Promise<void> {
    for (let next = await this.events.peek(); next && next.position < beforePosition; next = await this.events.peek()) {
      await this.events.next();
      this.uncheckedEvents += 1;
    }
  }

  /** Deleted events that run to the last sealed one, with nothing stored after them: a truncated log. */
  private recogniseTruncation(): void {
    const last = this.failures.last;
    if (last?.kind !== 'event-deleted' || this.unsealedEvents > 0) return;
    if ((last.toPosition ?? last.position) !== this.sealedPosition) return;
    const count = last.count ?? 1;
    this.failures.replaceLast({
      ...last,
      kind: 'log-truncated',
      toPosition: this.sealedPosition,
      message: `the log was truncated: the ${count} event${count > 1 ? 's' : ''} from position ${last.position} to ${this.sealedPosition}, sealed up to checkpoint #${last.checkpoint}, ${count > 1 ? 'are' : 'is'} gone`,
    });
  }

  private fail(failure: Failure): number | null {
    const index = this.failures.items.length;
    this.failures.add(failure);
    return this.failures.items.length > index ? index : null;
  }
}
