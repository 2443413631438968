import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  consistencyProofRanges,
  EMPTY_TREE_ROOT,
  hashLeaf,
  inclusionProofRanges,
  MerkleFrontier,
  SubtreeCollector,
  verifyConsistency,
  verifyInclusion,
  type LeafRange,
} from '@keyledger/audit';

/**
 * The Merkle tree of the audit log against RFC 9162: the Certificate Transparency reference
 * vectors (RFC 6962 test data, the tree hashing being the same in RFC 9162), and a reference
 * implementation written here straight from the RFC's recursive definitions, with its own hashing.
 */
const H = (...parts: Buffer[]): Buffer => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
const leafOf = (data: Buffer): Buffer => H(Buffer.from([0]), data);
const node = (left: Buffer, right: Buffer): Buffer => H(Buffer.from([1]), left, right);
const k = (n: number): number => 2 ** Math.ceil(Math.log2(n) - 1);

/** RFC 9162 §2.1.1 MTH over leaf hashes. */
const mth = (leaves: Buffer[]): Buffer =>
  leaves.length === 0 ? H() : leaves.length === 1 ? leaves[0]! : node(mth(leaves.slice(0, k(leaves.length))), mth(leaves.slice(k(leaves.length))));

/** RFC 9162 §2.1.3.1 PATH(m, D[n]). */
const path = (m: number, leaves: Buffer[]): Buffer[] => {
  if (leaves.length <= 1) return [];
  const split = k(leaves.length);
  return m < split
    ? [...path(m, leaves.slice(0, split)), mth(leaves.slice(split))]
    : [...path(m - split, leaves.slice(split)), mth(leaves.slice(0, split))];
};

/** RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b). */
const subproof = (m: number, leaves: Buffer[], complete: boolean): Buffer[] => {
  if (m === leaves.length) return complete ? [] : [mth(leaves)];
  const split = k(leaves.length);
  return m <= split
    ? [...subproof(m, leaves.slice(0, split), complete), mth(leaves.slice(split))]
    : [...subproof(m - split, leaves.slice(split), false), mth(leaves.slice(0, split))];
};

const hashesOf = (ranges: LeafRange[], leaves: Buffer[]): Buffer[] => ranges.map((r) => mth(leaves.slice(r.start, r.end)));
const hex = (b: Buffer): string => b.toString('hex');
const unhex = (s: string): Buffer => Buffer.from(s, 'hex');
const leavesOf = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => leafOf(Buffer.from(`leaf ${i}`)));

// Certificate Transparency's reference inputs and tree heads for sizes 1..8.
const CT_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_LEAVES = CT_INPUTS.map(hashLeaf);

describe('Merkle tree (RFC 9162)', () => {
  it('gives the reference tree heads for 0 to 8 leaves, leaf by leaf', () => {
    const frontier = MerkleFrontier.empty();
    expect(hex(frontier.root())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(EMPTY_TREE_ROOT)).toBe(hex(H()));
    CT_LEAVES.forEach((leaf, i) => {
      frontier.append(leaf);
      expect(hex(frontier.root())).toBe(CT_ROOTS[i]);
    });
  });

  it('hashes a leaf as SHA-256(0x00 || data), checked by hand for the empty input', () => {
    expect(hex(hashLeaf(Buffer.alloc(0)))).toBe(hex(createHash('sha256').update(Buffer.from([0])).digest()));
    // Three leaves: MTH = H(0x01 || H(0x01 || l0 || l1) || l2), RFC 9162's unbalanced split.
    const [l0, l1, l2] = CT_LEAVES;
    expect(hex(node(node(l0!, l1!), l2!))).toBe(CT_ROOTS[2]);
  });

  it('produces the reference inclusion proofs and verifies them', () => {
    const cases = [
      { index: 0, size: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
      { index: 5, size: 8, proof: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
    ];
    for (const { index, size, proof } of cases) {
      expect(hashesOf(inclusionProofRanges(index, size), CT_LEAVES).map(hex)).toEqual(proof);
      expect(verifyInclusion(CT_LEAVES[index]!, index, size, proof.map(unhex), unhex(CT_ROOTS[size - 1]!))).toBe(true);
    }
  });

  it('produces the reference consistency proofs and verifies them', () => {
    const cases = [
      { first: 2, second: 8, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
      { first: 6, second: 8, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
    ];
    for (const { first, second, proof } of cases) {
      expect(hashesOf(consistencyProofRanges(first, second), CT_LEAVES).map(hex)).toEqual(proof);
      expect(verifyConsistency(first, second, unhex(CT_ROOTS[first - 1]!), unhex(CT_ROOTS[second - 1]!), proof.map(unhex))).toBe(true);
    }
  });

  it('handles the degenerate consistency cases as RFC 9162 does', () => {
    const leaves = leavesOf(5);
    expect(verifyConsistency(4, 4, mth(leaves.slice(0, 4)), mth(leaves.slice(0, 4)), [])).toBe(true);
    expect(verifyConsistency(4, 4, mth(leaves.slice(0, 4)), mth(leaves), [])).toBe(false);
    expect(verifyConsistency(0, 5, EMPTY_TREE_ROOT, mth(leaves), [])).toBe(true);
    expect(verifyConsistency(3, 5, mth(leaves.slice(0, 3)), mth(leaves), [])).toBe(false);
    expect(verifyConsistency(5, 3, mth(leaves), mth(leaves.slice(0, 3)), [])).toBe(false);
    expect(verifyInclusion(leaves[0]!, 0, 1, [], leaves[0]!)).toBe(true);
    expect(verifyInclusion(leaves[0]!, 1, 1, [], leaves[0]!)).toBe(false);
  });

  it('matches the RFC definitions for every tree shape: roots, inclusion and consistency proofs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.nat(), fc.nat(), (size, a, b) => {
        const leaves = leavesOf(size);
        const frontier = MerkleFrontier.empty();
        leaves.forEach((leaf) => frontier.append(leaf));
        expect(hex(frontier.root())).toBe(hex(mth(leaves)));
        const index = a % size;
        const audit = hashesOf(inclusionProofRanges(index, size), leaves);
        expect(audit.map(hex)).toEqual(path(index, leaves).map(hex));
        expect(verifyInclusion(leaves[index]!, index, size, audit, mth(leaves))).toBe(true);
        const first = 1 + (b % size);
        const consistency = hashesOf(consistencyProofRanges(first, size), leaves);
        const expected = first === size ? [] : subproof(first, leaves, true);
        expect(consistency.map(hex)).toEqual(expected.map(hex));
        expect(verifyConsistency(first, size, mth(leaves.slice(0, first)), mth(leaves), consistency)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects every proof with one hash altered, one too many or one too few', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 120 }), fc.nat(), fc.nat(), fc.nat(), (size, a, b, pick) => {
        const leaves = leavesOf(size);
        const root = mth(leaves);
        const index = a % size;
        const audit = hashesOf(inclusionProofRanges(index, size), leaves);
        const flipped = audit.map((h, i) => (i === pick % audit.length ? Buffer.from(h.map((byte, j) => (j === 0 ? byte ^ 1 : byte))) : h));
        expect(verifyInclusion(leaves[index]!, index, size, flipped, root)).toBe(false);
        expect(verifyInclusion(leaves[index]!, index, size, audit.slice(1), root)).toBe(false);
        expect(verifyInclusion(leaves[index]!, index, size, [...audit, root], root)).toBe(false);
        expect(verifyInclusion(leaves[(index + 1) % size]!, index, size, audit, root)).toBe(false);
        const first = 1 + (b % (size - 1));
        const proof = hashesOf(consistencyProofRanges(first, size), leaves);
        const bent = proof.map((h, i) => (i === pick % proof.length ? leafOf(h) : h));
        expect(verifyConsistency(first, size, mth(leaves.slice(0, first)), root, bent)).toBe(false);
        expect(verifyConsistency(first, size, mth(leaves.slice(0, first)), root, proof.slice(0, -1))).toBe(false);
        // A different older tree (its last leaf replaced) is not extended by this one.
        const other = [...leaves.slice(0, first - 1), leafOf(Buffer.from('forged'))];
        expect(verifyConsistency(first, size, mth(other), root, proof)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('collects the subtree hashes of many proofs in one pass over the leaves', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 90 }), fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), (size, picks) => {
        const leaves = leavesOf(size);
        const sizes = [...new Set(picks.map((p) => 1 + (p % size)))].sort((x, y) => x - y);
        const wanted = [
          ...Array.from({ length: size }, (_, i) => inclusionProofRanges(i, size)).flat(),
          ...sizes.flatMap((s, i) => (i === 0 ? [] : consistencyProofRanges(sizes[i - 1]!, s))),
        ];
        const collector = new SubtreeCollector();
        wanted.forEach((range) => collector.want(range));
        const frontier = MerkleFrontier.empty();
        for (const leaf of leaves) {
          frontier.append(leaf, collector.onNode);
          collector.afterAppend(frontier);
        }
        for (const range of wanted) expect(hex(collector.hashOf(range))).toBe(hex(mth(leaves.slice(range.start, range.end))));
      }),
      { numRuns: 40 },
    );
  });

  it('resumes a tree from its frontier', () => {
    const leaves = leavesOf(37);
    const whole = MerkleFrontier.empty();
    leaves.slice(0, 21).forEach((leaf) => whole.append(leaf));
    const resumed = MerkleFrontier.resume(21, whole.frontier);
    leaves.slice(21).forEach((leaf) => resumed.append(leaf));
    expect(hex(resumed.root())).toBe(hex(mth(leaves)));
    expect(() => MerkleFrontier.resume(21, whole.frontier.slice(1))).toThrow(RangeError);
  });
});
