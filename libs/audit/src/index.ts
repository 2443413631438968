export { canonicalJson } from './canonical-json.js';
export { fromHex, sha256, toHex } from './hashes.js';
export {
  canonicalEvent,
  canonicalEventBytes,
  CHAIN_START,
  eventLeafHash,
  nextChainHash,
  recordedEventLeafHash,
  type CanonicalEvent,
} from './sealed-event.js';
export { EMPTY_TREE_ROOT, hashChildren, hashLeaf } from './merkle/tree-hash.js';
export { foldFrontier, MerkleFrontier } from './merkle/frontier.js';
export {
  consistencyProofRanges,
  inclusionProofRanges,
  verifyConsistency,
  verifyInclusion,
  type LeafRange,
} from './merkle/proofs.js';
export { SubtreeCollector } from './merkle/subtree-collector.js';
export {
  CHECKPOINT_EVENT_TYPE,
  CHECKPOINT_FORMAT,
  CHECKPOINT_STREAM,
  parseCheckpointRecord,
  signedHeadBytes,
  type CheckpointHead,
  type CheckpointRecord,
  type SignedCheckpoint,
} from './checkpoint/checkpoint.js';
export { readLatestCheckpointEvent } from './checkpoint/latest-checkpoint.js';
export { checkSignature, type SignatureCheck } from './checkpoint/signature.js';
export { keyIdOf, publicKeyPem, rawPublicKeyFromPem, TrustedKeys, verifyEd25519 } from './signer/ed25519.js';
export { SigningKeyError, type CheckpointSigner } from './signer/port.js';
export { AUDIT_SIGNING_KEY_FILE, readSoftwarePublicKey, SoftwareCheckpointSigner } from './signer/software-signer.js';
export { AuditSealer, type AuditLogger, type AuditSealerOptions, type SealerStatus } from './sealer/audit-sealer.js';
export type { Failure, FailureKind } from './verify/failures.js';
export type { CheckpointSummary, VerifyReport } from './verify/report.js';
export { verifySealedLog, type ExpectedCheckpoint, type SealedLogInput } from './verify/sealed-log-verifier.js';
export { verifyStore, type VerifyStoreOptions } from './verify/verify-store.js';
export { AuditError, type AuditErrorCode } from './errors.js';
export { exportBundle, type ExportOptions, type ExportResult } from './bundle/export-bundle.js';
export { BUNDLE_FILES, BUNDLE_FORMAT, type BundleManifest } from './bundle/format.js';
export { verifyBundle, type BundleReport, type BundleSource, type BundleVerifyOptions } from './bundle/verify-bundle.js';
export { isGzip, isTar, openBundleDirectory, verifyBundleAt, writeBundleTar } from './bundle/bundle-files.js';
export { parseRangeBound, resolveRange, type RangeBound } from './bundle/export-range.js';
export { measureVerifyThroughput, type VerifyThroughput } from './verify/throughput.js';
