import { z } from 'zod';
import { isHexHash } from '../hashes.js';

/**
 * The audit bundle: a folder (or a tar of it) that proves, offline, that the events it holds are
 * in the log the checkpoints signed. docs/audit-bundle.md is the normative description.
 */
export const BUNDLE_FORMAT = 'keyledger-audit-bundle/1';

export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  manifestSignature: 'manifest.json.sig',
  publicKey: 'public-key.pem',
  checkpoints: 'checkpoints.jsonl',
  consistencyProofs: 'consistency-proofs.jsonl',
  events: 'events.jsonl',
  inclusionProofs: 'inclusion-proofs.jsonl',
} as const;

/** The files the manifest lists with their hashes (itself and its signature aside). */
export const HASHED_FILES = [
  BUNDLE_FILES.publicKey,
  BUNDLE_FILES.checkpoints,
  BUNDLE_FILES.consistencyProofs,
  BUNDLE_FILES.events,
  BUNDLE_FILES.inclusionProofs,
] as const;

export type HashedFile = (typeof HASHED_FILES)[number];

export const ALL_BUNDLE_FILES: readonly string[] = Object.values(BUNDLE_FILES);

const hexHash = z.string().refine(isHexHash, 'a SHA-256 hash in lowercase hex');
const index = z.number().int().nonnegative();

export const fileDigestSchema = z.strictObject({ sha256: hexHash, bytes: index, lines: index });
export type FileDigest = z.infer<typeof fileDigestSchema>;

export const manifestSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  createdAt: z.string(),
  hashAlgorithm: z.literal('SHA-256'),
  signatureAlgorithm: z.literal('Ed25519'),
  /** The keys of public-key.pem, which signed the checkpoints. */
  keyIds: z.array(hexHash).min(1),
  range: z.strictObject({
    fromPosition: z.number().int().positive(),
    toPosition: z.number().int().positive(),
    firstTreeIndex: index,
    lastTreeIndex: index,
    sealedEvents: index,
  }),
  anchor: z.strictObject({ sequence: z.number().int().positive(), treeSize: index, rootHash: hexHash }),
  chainBefore: hexHash,
  files: z.strictObject({
    'public-key.pem': fileDigestSchema,
    'checkpoints.jsonl': fileDigestSchema,
    'consistency-proofs.jsonl': fileDigestSchema,
    'events.jsonl': fileDigestSchema,
    'inclusion-proofs.jsonl': fileDigestSchema,
  }),
});
export type BundleManifest = z.infer<typeof manifestSchema>;

export const inclusionProofLineSchema = z.strictObject({
  position: z.number().int().positive(),
  treeIndex: index,
  leafHash: hexHash,
  treeSize: z.number().int().positive(),
  auditPath: z.array(hexHash),
});
export type InclusionProofLine = z.infer<typeof inclusionProofLineSchema>;

export const consistencyProofLineSchema = z.strictObject({
  fromSequence: z.number().int().positive(),
  toSequence: z.number().int().positive(),
  fromTreeSize: index,
  toTreeSize: index,
  proof: z.array(hexHash),
});
export type ConsistencyProofLine = z.infer<typeof consistencyProofLineSchema>;

export const eventLineSchema = z.strictObject({
  position: z.number().int().positive(),
  eventId: z.string(),
  streamId: z.string(),
  revision: index,
  type: z.string(),
  schemaVersion: z.number().int(),
  data: z.unknown(),
  metadata: z.strictObject({
    actor: z.string(),
    tenantId: z.string().nullable(),
    correlationId: z.string(),
    causationId: z.string().nullable(),
    idempotencyKey: z.string().nullable(),
    recordedAt: z.string(),
  }),
});

/** What a zod failure means, in one line. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || '(line)'}: ${issue.message}`;
}
