import { z } from 'zod';
import { canonicalJson } from '../canonical-json.js';
import { isHexHash } from '../hashes.js';

/** Checkpoints are events of their own stream, so they live, replicate and back up with the log. */
export const CHECKPOINT_STREAM = 'audit-checkpoints';
export const CHECKPOINT_EVENT_TYPE = 'AuditCheckpointSigned';
export const CHECKPOINT_SCHEMA_VERSION = 1;
export const CHECKPOINT_FORMAT = 'keyledger-checkpoint/v1';

/**
 * The signed tree head. The signature is Ed25519 over the UTF-8 bytes of its RFC 8785 form.
 * The tree holds every event of the log outside the checkpoint stream, in position order.
 */
export interface CheckpointHead {
  readonly format: typeof CHECKPOINT_FORMAT;
  /** 1 for the first checkpoint of the log; always its event's stream revision + 1. */
  readonly sequence: number;
  /** Leaves (events) in the tree. */
  readonly treeSize: number;
  /** RFC 9162 Merkle tree hash of those leaves, hex. */
  readonly rootHash: string;
  /** Position of the last event in the tree (0 for an empty tree). */
  readonly lastPosition: number;
  /** Chain hash of the last event in the tree, hex. */
  readonly chainHash: string;
  readonly signedAt: string;
  /** SHA-256 of the signer's raw public key, hex. */
  readonly keyId: string;
}

export interface SignedCheckpoint {
  readonly head: CheckpointHead;
  /** Ed25519 signature, base64. */
  readonly signature: string;
}

/** What the checkpoint event carries beyond the signed head: what a verifier and the next sealer need. */
export interface CheckpointRecord extends SignedCheckpoint {
  /** The signer's raw public key, base64: published so anyone can pin it. */
  readonly publicKey: string;
  /** [position, leaf hash] of each event this checkpoint added to the tree, in tree order. */
  readonly leaves: readonly (readonly [number, string])[];
  /** Roots of the tree's perfect subtrees, largest first: enough to extend the tree without re-reading it. */
  readonly frontier: readonly string[];
}

export const signedHeadBytes = (head: CheckpointHead): Buffer => Buffer.from(canonicalJson(head), 'utf8');

const hexHash = z.string().refine(isHexHash, 'a SHA-256 hash in lowercase hex');
const count = z.number().int().nonnegative();
const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64');

export const checkpointHeadSchema = z.strictObject({
  format: z.literal(CHECKPOINT_FORMAT),
  sequence: z.number().int().positive(),
  treeSize: count,
  rootHash: hexHash,
  lastPosition: count,
  chainHash: hexHash,
  signedAt: z.string().min(1).max(64),
  keyId: hexHash,
});

export const signedCheckpointSchema = z.strictObject({ head: checkpointHeadSchema, signature: base64 });

const checkpointRecordSchema = z.strictObject({
  head: checkpointHeadSchema,
  signature: base64,
  publicKey: base64,
  leaves: z.array(z.tuple([z.number().int().positive(), hexHash])),
  frontier: z.array(hexHash),
});

export type ParsedRecord = { ok: true; record: CheckpointRecord } | { ok: false; reason: string };

/** Checks a checkpoint event's data against the record's shape; says what is wrong when it is not. */
export function parseCheckpointRecord(data: unknown): ParsedRecord {
  const parsed = checkpointRecordSchema.safeParse(data);
  if (parsed.success) return { ok: true, record: parsed.data as CheckpointRecord };
  const issue = parsed.error.issues[0]!;
  return { ok: false, reason: `${issue.path.join('.') || '(data)'}: ${issue.message}` };
}
