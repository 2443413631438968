import { sha256 } from '../hashes.js';

/**
 * RFC 9162 §2.1.1 hashing: a leaf is SHA-256(0x00 || data), an interior node
 * SHA-256(0x01 || left || right), and the empty tree SHA-256 of nothing. The prefixes keep a
 * leaf from ever being read as a node (second-preimage resistance).
 */
const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

export const hashLeaf = (data: Uint8Array): Buffer => sha256(LEAF_PREFIX, data);
export const hashChildren = (left: Uint8Array, right: Uint8Array): Buffer => sha256(NODE_PREFIX, left, right);
export const EMPTY_TREE_ROOT: Buffer = sha256();

/** The largest power of two strictly smaller than n (n ≥ 2): RFC 9162's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
