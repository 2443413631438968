import { EMPTY_TREE_ROOT, hashChildren } from './tree-hash.js';

/**
 * The right edge of an RFC 9162 tree built leaf by leaf: the roots of its perfect subtrees, largest
 * (leftmost) first, one per 1-bit of the tree size. It is all that is needed to append the next
 * leaf and to compute the root, so a tree of any size costs O(log n) memory.
 */
export class MerkleFrontier {
  private constructor(
    private readonly nodes: Buffer[],
    private treeSize: number,
  ) {}

  static empty(): MerkleFrontier {
    return new MerkleFrontier([], 0);
  }

  /** Resumes from a stored frontier; its shape must be the one its size implies. */
  static resume(size: number, nodes: readonly Buffer[]): MerkleFrontier {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`Invalid tree size ${size}`);
    if (nodes.length !== popCount(size)) {
      throw new RangeError(`A tree of ${size} leaves has ${popCount(size)} frontier nodes, not ${nodes.length}`);
    }
    return new MerkleFrontier([...nodes], size);
  }

  get size(): number {
    return this.treeSize;
  }

  get frontier(): readonly Buffer[] {
    return this.nodes;
  }

  /**
   * Adds a leaf hash. Each completed perfect subtree is reported to `onNode` as (height, index,
   * hash), where it covers leaves [index·2^height, (index+1)·2^height).
   */
  append(leafHash: Buffer, onNode?: (height: number, index: number, hash: Buffer) => void): void {
    const position = this.treeSize;
    let node = leafHash;
    onNode?.(0, position, node);
    // As many merges as trailing 1-bits of the old size: a binary counter's carries.
    for (let carry = position, height = 1; carry % 2 === 1; carry = Math.floor(carry / 2), height += 1) {
      node = hashChildren(this.nodes.pop()!, node);
      onNode?.(height, Math.floor(position / 2 ** height), node);
    }
    this.nodes.push(node);
    this.treeSize = position + 1;
  }

  /** MTH of the leaves so far (RFC 9162 §2.1.1): the frontier folded from the right. */
  root(): Buffer {
    return foldFrontier(this.nodes);
  }

  /**
   * MTH(D[start:size]) for a `start` where the frontier splits, i.e. the hash of the right-edge
   * subtree made of the frontier nodes that cover leaves from `start` on.
   */
  rightEdgeRoot(start: number): Buffer {
    const heights = frontierHeights(this.treeSize);
    let covered = 0;
    for (let i = 0; i < heights.length; i += 1) {
      if (covered === start) return foldFrontier(this.nodes.slice(i));
      covered += 2 ** heights[i]!;
    }
    throw new RangeError(`Leaf ${start} is not where a frontier node of a ${this.treeSize}-leaf tree starts`);
  }
}

export function foldFrontier(nodes: readonly Buffer[]): Buffer {
  if (nodes.length === 0) return EMPTY_TREE_ROOT;
  let root = nodes[nodes.length - 1]!;
  for (let i = nodes.length - 2; i >= 0; i -= 1) root = hashChildren(nodes[i]!, root);
  return root;
}

/** Heights of the frontier's subtrees, largest first: the 1-bits of the size, high to low. */
export function frontierHeights(size: number): number[] {
  const heights: number[] = [];
  for (let height = 52; height >= 0; height -= 1) {
    if (Math.floor(size / 2 ** height) % 2 === 1) heights.push(height);
  }
  return heights;
}

function popCount(size: number): number {
  return frontierHeights(size).length;
}
