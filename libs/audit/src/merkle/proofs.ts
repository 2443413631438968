import { hashChildren, splitPoint } from './tree-hash.js';

/**
 * RFC 9162 §2.1.3 (inclusion) and §2.1.4 (consistency) proofs. Generation is expressed as the
 * list of leaf ranges [start, end) whose subtree hashes make the proof, so that a caller that
 * streams the leaves can compute exactly those; verification follows the RFC's algorithms step by
 * step.
 */
export interface LeafRange {
  readonly start: number;
  readonly end: number;
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1, as ranges, from the leaf's sibling up to the root's child. */
export function inclusionProofRanges(leafIndex: number, treeSize: number): LeafRange[] {
  assertIndex(leafIndex, treeSize);
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = treeSize;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (leafIndex < start + k) {
      topDown.push({ start: start + k, end });
      end = start + k;
    } else {
      topDown.push({ start, end: start + k });
      start += k;
    }
  }
  return topDown.reverse();
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 §2.1.4.1, as ranges; empty unless 0 < m < n. */
export function consistencyProofRanges(firstSize: number, secondSize: number): LeafRange[] {
  assertSizes(firstSize, secondSize);
  if (firstSize === 0 || firstSize === secondSize) return [];
  const topDown: LeafRange[] = [];
  let m = firstSize;
  let start = 0;
  let end = secondSize;
  let completeSubtree = true;
  while (m !== end - start) {
    const k = splitPoint(end - start);
    if (m <= k) {
      topDown.push({ start: start + k, end });
      end = start + k;
    } else {
      topDown.push({ start, end: start + k });
      start += k;
      m -= k;
      completeSubtree = false;
    }
  }
  // SUBPROOF(m, D[m], false) contributes MTH(D[m]); with b = true the verifier already has it.
  if (!completeSubtree) topDown.push({ start, end });
  return topDown.reverse();
}

/** RFC 9162 §2.1.3.2: does `auditPath` prove `leafHash` at `leafIndex` in the tree with `root`? */
export function verifyInclusion(leafHash: Buffer, leafIndex: number, treeSize: number, auditPath: readonly Buffer[], root: Buffer): boolean {
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0 || leafIndex >= treeSize) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of auditPath) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      r = hashChildren(r, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: does `proof` show that the tree (secondSize, secondRoot) extends (firstSize, firstRoot)? */
export function verifyConsistency(
  firstSize: number,
  secondSize: number,
  firstRoot: Buffer,
  secondRoot: Buffer,
  proof: readonly Buffer[],
): boolean {
  if (!Number.isSafeInteger(firstSize) || !Number.isSafeInteger(secondSize) || firstSize < 0 || firstSize > secondSize) return false;
  if (firstSize === secondSize) return proof.length === 0 && firstRoot.equals(secondRoot);
  // Every tree extends the empty one; there is nothing to prove.
  if (firstSize === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(firstSize) ? [firstRoot, ...proof] : [...proof];
  let fn = firstSize - 1;
  let sn = secondSize - 1;
  while (fn % 2 === 1) [fn, sn] = [half(fn), half(sn)];
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else {
      sr = hashChildren(sr, c);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return fr.equals(firstRoot) && sr.equals(secondRoot) && sn === 0;
}

/** True when the range is a perfect subtree at its natural place: 2^h leaves starting at a multiple of 2^h. */
export function isAlignedSubtree({ start, end }: LeafRange): boolean {
  const width = end - start;
  return isPowerOfTwo(width) && start % width === 0;
}

export const isPowerOfTwo = (n: number): boolean => n >= 1 && 2 ** Math.round(Math.log2(n)) === n;

const half = (n: number): number => Math.floor(n / 2);

function assertIndex(leafIndex: number, treeSize: number): void {
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0 || leafIndex >= treeSize) {
    throw new RangeError(`Leaf ${leafIndex} is not in a tree of ${treeSize} leaves`);
  }
}

function assertSizes(firstSize: number, secondSize: number): void {
  if (!Number.isSafeInteger(firstSize) || !Number.isSafeInteger(secondSize) || firstSize < 0 || firstSize > secondSize) {
    throw new RangeError(`No consistency proof from ${firstSize} to ${secondSize} leaves`);
  }
}
