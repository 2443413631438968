import type { MerkleFrontier } from './frontier.js';
import { isAlignedSubtree, type LeafRange } from './proofs.js';

/**
 * Computes the hashes of chosen subtrees in one pass over the leaves, without keeping the tree:
 * a proof needs O(log n) subtree hashes, each either a perfect subtree at its natural place (seen
 * when the frontier completes it) or the right edge of a tree of some size (read off the frontier
 * when the pass reaches that size).
 */
export class SubtreeCollector {
  private readonly aligned = new Map<string, Buffer | null>();
  private readonly rightEdges = new Map<number, Map<number, Buffer | null>>();

  want(range: LeafRange): void {
    if (isAlignedSubtree(range)) {
      const key = alignedKey(Math.log2(range.end - range.start), range.start / (range.end - range.start));
      if (!this.aligned.has(key)) this.aligned.set(key, null);
      return;
    }
    const starts = this.rightEdges.get(range.end) ?? new Map<number, Buffer | null>();
    starts.set(range.start, null);
    this.rightEdges.set(range.end, starts);
  }

  /** Pass as `onNode` to MerkleFrontier.append. */
  readonly onNode = (height: number, index: number, hash: Buffer): void => {
    const key = alignedKey(height, index);
    if (this.aligned.has(key)) this.aligned.set(key, hash);
  };

  /** Call after each append: takes the right-edge subtrees wanted at this tree size. */
  afterAppend(frontier: MerkleFrontier): void {
    const starts = this.rightEdges.get(frontier.size);
    if (!starts) return;
    for (const start of starts.keys()) starts.set(start, frontier.rightEdgeRoot(start));
  }

  hashOf(range: LeafRange): Buffer {
    const hash = isAlignedSubtree(range)
      ? this.aligned.get(alignedKey(Math.log2(range.end - range.start), range.start / (range.end - range.start)))
      : this.rightEdges.get(range.end)?.get(range.start);
    if (!hash) throw new RangeError(`Subtree [${range.start}, ${range.end}) was not collected`);
    return hash;
  }
}

const alignedKey = (height: number, index: number): string => `${height}:${index}`;
