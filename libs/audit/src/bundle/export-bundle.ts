import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventStore } from '@keyledger/event-store';
import { canonicalJson } from '../canonical-json.js';
import { AuditError } from '../errors.js';
import { fromHex, toHex } from '../hashes.js';
import { MerkleFrontier } from '../merkle/frontier.js';
import { consistencyProofRanges, inclusionProofRanges } from '../merkle/proofs.js';
import { SubtreeCollector } from '../merkle/subtree-collector.js';
import { canonicalEvent, CHAIN_START, nextChainHash } from '../sealed-event.js';
import { CHECKPOINT_STREAM, parseCheckpointRecord, type CheckpointHead, type CheckpointRecord } from '../checkpoint/checkpoint.js';
import { keyIdOf, publicKeyPem } from '../signer/ed25519.js';
import type { CheckpointSigner } from '../signer/port.js';
import { readCheckpoints, readLog } from '../verify/verify-store.js';
import { BUNDLE_FILES, BUNDLE_FORMAT, type BundleManifest, type FileDigest } from './format.js';
import { HashingWriter } from './hashing-writer.js';

export interface ExportOptions {
  /** First position to export (default: the first event). */
  readonly fromPosition?: number;
  /** Last position to export (default and at most: the last sealed event). */
  readonly toPosition?: number;
  /** Signs manifest.json when given, so that no file of the bundle can change unnoticed. */
  readonly signer?: CheckpointSigner | null;
  readonly now?: () => Date;
  readonly onProgress?: (phase: 'checkpoints' | 'proofs' | 'events', done: number, total: number) => void;
}

export interface ExportResult {
  readonly directory: string;
  readonly manifest: BundleManifest;
  /** Events asked for beyond the last checkpoint, left out because no checkpoint covers them yet. */
  readonly unsealedLeftOut: boolean;
}

interface SealedInRange {
  readonly position: number;
  readonly treeIndex: number;
  readonly leafHash: string;
}

/** What the first pass over the checkpoints learns: every head, the range's leaves, and the chain before them. */
interface Plan {
  readonly heads: CheckpointHead[];
  readonly publicKeys: Map<string, Buffer>;
  readonly sealed: SealedInRange[];
  readonly chainBefore: Buffer;
  readonly fromPosition: number;
  readonly toPosition: number;
  readonly unsealedLeftOut: boolean;
}

/**
 * Writes an audit bundle of the events from `fromPosition` to `toPosition` into `directory` (new
 * or empty). Three streaming passes: the checkpoints (heads, and which leaves fall in the range),
 * the sealed leaf hashes again (the subtree hashes every proof needs), then the events.
 * Memory grows with the exported range, not with the log.
 */
export async function exportBundle(store: EventStore, directory: string, options: ExportOptions = {}): Promise<ExportResult> {
  await prepareDirectory(directory);
  const checkpointsFile = new HashingWriter(join(directory, BUNDLE_FILES.checkpoints));
  const plan = await planExport(store, options, checkpointsFile);
  // The manifest's signer must be among the bundle's keys, even after a change of signing key.
  if (options.signer) plan.publicKeys.set(options.signer.keyId, options.signer.publicKey);
  const checkpointsDigest = await checkpointsFile.close();
  const anchor = plan.heads[plan.heads.length - 1]!;
  const collector = await collectSubtrees(store, plan, anchor.treeSize, options);
  const consistencyDigest = await writeConsistencyProofs(join(directory, BUNDLE_FILES.consistencyProofs), plan.heads, collector);
  const inclusionDigest = await writeInclusionProofs(join(directory, BUNDLE_FILES.inclusionProofs), plan.sealed, anchor.treeSize, collector);
  const eventsDigest = await writeEvents(join(directory, BUNDLE_FILES.events), store, plan, options);
  const publicKeyDigest = await writePublicKeys(join(directory, BUNDLE_FILES.publicKey), plan.publicKeys);
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    createdAt: (options.now ?? (() => new Date()))().toISOString(),
    hashAlgorithm: 'SHA-256',
    signatureAlgorithm: 'Ed25519',
    keyIds: [...plan.publicKeys.keys()],
    range: {
      fromPosition: plan.fromPosition,
      toPosition: plan.toPosition,
      firstTreeIndex: plan.sealed[0]!.treeIndex,
      lastTreeIndex: plan.sealed[plan.sealed.length - 1]!.treeIndex,
      sealedEvents: plan.sealed.length,
    },
    anchor: { sequence: anchor.sequence, treeSize: anchor.treeSize, rootHash: anchor.rootHash },
    chainBefore: toHex(plan.chainBefore),
    files: {
      'public-key.pem': publicKeyDigest,
      'checkpoints.jsonl': checkpointsDigest,
      'consistency-proofs.jsonl': consistencyDigest,
      'events.jsonl': eventsDigest,
      'inclusion-proofs.jsonl': inclusionDigest,
    },
  };
  await writeManifest(directory, manifest, options.signer ?? null);
  return { directory, manifest, unsealedLeftOut: plan.unsealedLeftOut };
}

async function prepareDirectory(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true });
  if ((await readdir(directory)).length > 0) throw new AuditError('AUDIT.INVALID_RANGE', `The bundle folder ${directory} is not empty`);
}

// ── pass 1: checkpoints ───────────────────────────────────────────────────

async function planExport(store: EventStore, options: ExportOptions, checkpointsFile: HashingWriter): Promise<Plan> {
  const fromPosition = options.fromPosition ?? 1;
  const heads: CheckpointHead[] = [];
  const publicKeys = new Map<string, Buffer>();
  const sealed: SealedInRange[] = [];
  let chain = CHAIN_START;
  let chainBefore: Buffer | null = null;
  let treeSize = 0;
  for await (const record of readRecords(store)) {
    assertContinues(record, treeSize);
    heads.push(record.head);
    rememberKey(publicKeys, record);
    await checkpointsFile.line(canonicalJson({ head: record.head, signature: record.signature }));
    for (const [position, leafHash] of record.leaves) {
      if (position >= fromPosition && (options.toPosition === undefined || position <= options.toPosition)) {
        chainBefore ??= chain;
        sealed.push({ position, treeIndex: treeSize, leafHash });
      }
      chain = nextChainHash(chain, fromHex(leafHash));
      treeSize += 1;
    }
    options.onProgress?.('checkpoints', heads.length, heads.length);
  }
  if (heads.length === 0) throw new AuditError('AUDIT.NOTHING_SEALED', 'No checkpoint has been written yet: there is nothing sealed to export');
  if (sealed.length === 0 || chainBefore === null) {
    throw new AuditError('AUDIT.INVALID_RANGE', `No sealed event between positions ${fromPosition} and ${options.toPosition ?? 'the last checkpoint'}`);
  }
  const lastSealed = heads[heads.length - 1]!.lastPosition;
  const toPosition = Math.min(options.toPosition ?? lastSealed, lastSealed);
  return { heads, publicKeys, sealed, chainBefore, fromPosition, toPosition, unsealedLeftOut: (options.toPosition ?? 0) > lastSealed };
}

async function* readRecords(store: EventStore): AsyncIterable<CheckpointRecord> {
  for await (const event of readCheckpoints(store, 1000)) {
    const parsed = parseCheckpointRecord(event.data);
    if (!parsed.ok) {
      throw new AuditError('AUDIT.CHECKPOINTS_DAMAGED', `Checkpoint #${event.revision + 1} is damaged (${parsed.reason}); run "keyledger audit verify" to locate the problem`);
    }
    yield parsed.record;
  }
}

function assertContinues({ head, leaves }: CheckpointRecord, treeSize: number): void {
  if (head.treeSize - leaves.length === treeSize) return;
  throw new AuditError('AUDIT.CHECKPOINTS_DAMAGED', `Checkpoint #${head.sequence} does not continue the tree of the checkpoints before it; run "keyledger audit verify" to locate the problem`);
}

function rememberKey(publicKeys: Map<string, Buffer>, record: CheckpointRecord): void {
  const raw = Buffer.from(record.publicKey, 'base64');
  if (keyIdOf(raw) === record.head.keyId) publicKeys.set(record.head.keyId, raw);
}

// ── pass 2: the subtree hashes of every proof ─────────────────────────────

async function collectSubtrees(store: EventStore, plan: Plan, anchorSize: number, options: ExportOptions): Promise<SubtreeCollector> {
  const collector = new SubtreeCollector();
  for (const { treeIndex } of plan.sealed) inclusionProofRanges(treeIndex, anchorSize).forEach((range) => collector.want(range));
  plan.heads.forEach((head, i) => {
    if (i > 0) consistencyProofRanges(plan.heads[i - 1]!.treeSize, head.treeSize).forEach((range) => collector.want(range));
  });
  const frontier = MerkleFrontier.empty();
  for await (const record of readRecords(store)) {
    for (const [, leafHash] of record.leaves) {
      frontier.append(fromHex(leafHash), collector.onNode);
      collector.afterAppend(frontier);
    }
    options.onProgress?.('proofs', frontier.size, anchorSize);
  }
  return collector;
}

async function writeConsistencyProofs(path: string, heads: readonly CheckpointHead[], collector: SubtreeCollector): Promise<FileDigest> {
  const file = new HashingWriter(path);
  for (let i = 1; i < heads.length; i += 1) {
    const [from, to] = [heads[i - 1]!, heads[i]!];
    const proof = consistencyProofRanges(from.treeSize, to.treeSize).map((range) => toHex(collector.hashOf(range)));
    await file.line(canonicalJson({ fromSequence: from.sequence, toSequence: to.sequence, fromTreeSize: from.treeSize, toTreeSize: to.treeSize, proof }));
  }
  return file.close();
}

async function writeInclusionProofs(path: string, sealed: readonly SealedInRange[], treeSize: number, collector: SubtreeCollector): Promise<FileDigest> {
  const file = new HashingWriter(path);
  for (const { position, treeIndex, leafHash } of sealed) {
    const auditPath = inclusionProofRanges(treeIndex, treeSize).map((range) => toHex(collector.hashOf(range)));
    await file.line(canonicalJson({ position, treeIndex, leafHash, treeSize, auditPath }));
  }
  return file.close();
}

// ── pass 3: the events, as stored ─────────────────────────────────────────

async function writeEvents(path: string, store: EventStore, plan: Plan, options: ExportOptions): Promise<FileDigest> {
  const file = new HashingWriter(path);
  const total = plan.toPosition - plan.fromPosition + 1;
  const onPage = (position: number) => options.onProgress?.('events', Math.min(total, position - plan.fromPosition + 1), total);
  for await (const event of readLog(store, 1000, onPage, plan.fromPosition - 1)) {
    if (event.position > plan.toPosition) break;
    if (event.streamId !== CHECKPOINT_STREAM) await file.line(canonicalJson(canonicalEvent(event)));
  }
  return file.close();
}

async function writePublicKeys(path: string, publicKeys: Map<string, Buffer>): Promise<FileDigest> {
  const file = new HashingWriter(path);
  for (const raw of publicKeys.values()) await file.write(publicKeyPem(raw));
  return file.close();
}

async function writeManifest(directory: string, manifest: BundleManifest, signer: CheckpointSigner | null): Promise<void> {
  const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
  await writeFile(join(directory, BUNDLE_FILES.manifest), bytes, { flag: 'wx' });
  if (signer) await writeFile(join(directory, BUNDLE_FILES.manifestSignature), `${(await signer.sign(bytes)).toString('base64')}\n`, { flag: 'wx' });
}
