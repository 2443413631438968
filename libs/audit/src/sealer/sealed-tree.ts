import { fromHex, toHex } from '../hashes.js';
import { foldFrontier, MerkleFrontier } from '../merkle/frontier.js';
import { CHAIN_START, nextChainHash } from '../sealed-event.js';
import { CHECKPOINT_FORMAT, type CheckpointHead, type CheckpointRecord } from '../checkpoint/checkpoint.js';

export interface Leaf {
  readonly position: number;
  readonly hash: Buffer;
}

/**
 * The tree as the last checkpoint left it: its frontier, chain hash, last position and sequence.
 * Immutable: sealing a batch gives the next one, which becomes current only once its checkpoint
 * was appended.
 */
export class SealedTree {
  private constructor(
    readonly sequence: number,
    private readonly frontier: MerkleFrontier,
    readonly chainHash: Buffer,
    readonly lastPosition: number,
  ) {}

  static empty(): SealedTree {
    return new SealedTree(0, MerkleFrontier.empty(), CHAIN_START, 0);
  }

  /** Resumes from a checkpoint; refuses a record whose frontier does not produce its signed root. */
  static fromRecord(record: CheckpointRecord): SealedTree {
    const { head } = record;
    const nodes = record.frontier.map(fromHex);
    const frontier = MerkleFrontier.resume(head.treeSize, nodes);
    if (toHex(foldFrontier(nodes)) !== head.rootHash) {
      throw new RangeError(`Checkpoint #${head.sequence}: its frontier does not produce its root hash`);
    }
    return new SealedTree(head.sequence, frontier, fromHex(head.chainHash), head.lastPosition);
  }

  get treeSize(): number {
    return this.frontier.size;
  }

  get rootHash(): Buffer {
    return this.frontier.root();
  }

  /** The tree with `leaves` appended, and the head a checkpoint of it signs. */
  extend(leaves: readonly Leaf[], signedAt: string, keyId: string): { tree: SealedTree; head: CheckpointHead } {
    const frontier = MerkleFrontier.resume(this.frontier.size, this.frontier.frontier);
    let chainHash = this.chainHash;
    for (const leaf of leaves) {
      frontier.append(leaf.hash);
      chainHash = nextChainHash(chainHash, leaf.hash);
    }
    const lastPosition = leaves.length > 0 ? leaves[leaves.length - 1]!.position : this.lastPosition;
    const tree = new SealedTree(this.sequence + 1, frontier, chainHash, lastPosition);
    const head: CheckpointHead = {
      format: CHECKPOINT_FORMAT,
      sequence: tree.sequence,
      treeSize: frontier.size,
      rootHash: toHex(frontier.root()),
      lastPosition,
      chainHash: toHex(chainHash),
      signedAt,
      keyId,
    };
    return { tree, head };
  }

  frontierHex(): string[] {
    return this.frontier.frontier.map(toHex);
  }
}
