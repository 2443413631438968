import { fromHex, toHex } from '../hashes.js';
import { verifyConsistency, verifyInclusion } from '../merkle/proofs.js';
import { nextChainHash, eventLeafHash, type CanonicalEvent } from '../sealed-event.js';
import { signedCheckpointSchema, type CheckpointHead } from '../checkpoint/checkpoint.js';
import { checkSignature } from '../checkpoint/signature.js';
import { keyIdOf, rawPublicKeyFromPem, TrustedKeys, verifyEd25519 } from '../signer/ed25519.js';
import { Cursor } from '../verify/event-cursor.js';
import { describeEvent, FailureList, type Failure } from '../verify/failures.js';
import {
  BUNDLE_FILES,
  consistencyProofLineSchema,
  eventLineSchema,
  firstIssue,
  HASHED_FILES,
  inclusionProofLineSchema,
  manifestSchema,
  type BundleManifest,
  type FileDigest,
  type InclusionProofLine,
} from './format.js';

/** What the verifier reads; the folder or tar reader provides it, so the checks below do no I/O of their own. */
export interface BundleSource {
  /** The bytes of manifest.json, or null when it is absent. */
  readonly manifest: Buffer | null;
  /** manifest.json.sig (base64), or null when the bundle is not signed. */
  readonly manifestSignature: string | null;
  readonly publicKeyPem: string | null;
  /** Each bundle file's digest as found (null when absent). */
  readonly digests: ReadonlyMap<string, FileDigest | null>;
  /** The lines of a bundle file, in order, without their line breaks. */
  lines(file: string): AsyncIterable<string>;
}

export interface BundleVerifyOptions {
  /** The audit public keys the auditor trusts; without them the bundle's own keys are used (and the report says so). */
  readonly pinnedKeys?: readonly Buffer[];
}

export interface BundleReport {
  readonly intact: boolean;
  readonly summary: string;
  readonly manifestSigned: boolean;
  /** True when the keys came from the auditor rather than from the bundle itself. */
  readonly keysPinned: boolean;
  readonly keyIds: readonly string[];
  readonly range: BundleManifest['range'] | null;
  readonly anchor: BundleManifest['anchor'] | null;
  readonly checkpoints: number;
  readonly eventsVerified: number;
  readonly failures: readonly Failure[];
  readonly failureCount: number;
}

/**
 * Verifies an audit bundle offline. In order: the manifest and its signature, each file against
 * the manifest's SHA-256, each checkpoint's signature, the consistency proof between each pair of
 * consecutive checkpoints (the log only grew), and each event: its leaf hash recomputed from its
 * RFC 8785 form must be the one its inclusion proof proves in the anchor checkpoint's tree.
 */
export async function verifyBundle(source: BundleSource, options: BundleVerifyOptions = {}): Promise<BundleReport> {
  const run = new BundleVerification(source, options);
  await run.verify();
  return run.report();
}

interface Line<T> {
  readonly line: number;
  readonly value: T;
}

class BundleVerification {
  private readonly failures = new FailureList();
  private manifest: BundleManifest | null = null;
  private trusted = new TrustedKeys([]);
  private bundleKeyIds: string[] = [];
  private manifestSigned = false;
  private readonly heads = new Map<number, CheckpointHead>();
  private checkpointLines = 0;
  private eventsVerified = 0;

  constructor(
    private readonly source: BundleSource,
    private readonly options: BundleVerifyOptions,
  ) {}

  async verify(): Promise<void> {
    this.manifest = this.readManifest();
    if (!this.manifest) return;
    this.readKeys(this.manifest);
    this.checkManifestSignature();
    await this.checkCheckpoints(this.manifest);
    await this.checkConsistency(this.manifest);
    await new EventCheck(this.source, this.manifest, this.heads, this.failures).run((n) => (this.eventsVerified = n));
    // Last, so that the precise findings above come first; a file can also differ in form only.
    this.checkDigests(this.manifest);
  }

  report(): BundleReport {
    const intact = this.failures.count === 0;
    const manifest = this.manifest;
    const trust = this.options.pinnedKeys ? 'with pinned keys' : 'with the keys the bundle carries (pin them with --public-key)';
    const signed = this.manifestSigned ? 'signed manifest' : 'manifest not signed';
    const summary = intact
      ? `bundle intact: ${plural(this.eventsVerified, 'event')} from position ${manifest!.range.fromPosition} to ${manifest!.range.toPosition} ${this.eventsVerified === 1 ? 'is' : 'are'} in the log signed by checkpoint #${manifest!.anchor.sequence} (root ${manifest!.anchor.rootHash}); ${plural(this.heads.size, 'checkpoint')} consistent; ${signed}; verified ${trust}`
      : `FAILED: ${this.failures.first!.message}${this.failures.count > 1 ? `; ${this.failures.count - 1} more failure${this.failures.count === 2 ? '' : 's'}` : ''}`;
    return {
      intact,
      summary,
      manifestSigned: this.manifestSigned,
      keysPinned: this.options.pinnedKeys !== undefined,
      keyIds: this.bundleKeyIds,
      range: manifest?.range ?? null,
      anchor: manifest?.anchor ?? null,
      checkpoints: this.checkpointLines,
      eventsVerified: this.eventsVerified,
      failures: [...this.failures.items],
      failureCount: this.failures.count,
    };
  }

  // ── manifest and keys ───────────────────────────────────────────────────

  private readManifest(): BundleManifest | null {
    const file = BUNDLE_FILES.manifest;
    if (!this.source.manifest) return this.malformed(file, undefined, `${file} is missing: this is not an audit bundle`);
    let json: unknown;
    try {
      json = JSON.parse(this.source.manifest.toString('utf8'));
    } catch {
      return this.malformed(file, undefined, `${file} is not JSON`);
    }
    const parsed = manifestSchema.safeParse(json);
    return parsed.success ? parsed.data : this.malformed(file, undefined, `${file} is not a bundle manifest: ${firstIssue(parsed.error)}`);
  }

  private readKeys(manifest: BundleManifest): void {
    const blocks = this.source.publicKeyPem?.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
    const keys: Buffer[] = [];
    for (const block of blocks) {
      try {
        keys.push(rawPublicKeyFromPem(block));
      } catch {
        this.malformed(BUNDLE_FILES.publicKey, undefined, `${BUNDLE_FILES.publicKey} holds a key that is not an Ed25519 public key`);
      }
    }
    this.bundleKeyIds = keys.map(keyIdOf);
    if ([...this.bundleKeyIds].sort().join() !== [...manifest.keyIds].sort().join()) {
      this.malformed(BUNDLE_FILES.publicKey, undefined, `${BUNDLE_FILES.publicKey} holds keys ${this.bundleKeyIds.join(', ') || '(none)'}, but the manifest names ${manifest.keyIds.join(', ')}`);
    }
    this.trusted = new TrustedKeys(this.options.pinnedKeys ? [...this.options.pinnedKeys] : keys);
  }

  private checkManifestSignature(): void {
    if (this.source.manifestSignature === null) return;
    const signature = Buffer.from(this.source.manifestSignature.trim(), 'base64');
    const signedBy = this.trusted.keyIds.find((id) => verifyEd25519(this.trusted.get(id)!, this.source.manifest!, signature));
    if (signedBy) {
      this.manifestSigned = true;
      return;
    }
    this.fail({ kind: 'bundle-file-altered', file: BUNDLE_FILES.manifest, message: `${BUNDLE_FILES.manifest} does not match its signature (${BUNDLE_FILES.manifestSignature}) under a trusted key: the manifest was altered` });
  }

  private checkDigests(manifest: BundleManifest): void {
    for (const file of HASHED_FILES) {
      const found = this.source.digests.get(file) ?? null;
      const listed = manifest.files[file];
      if (!found) this.malformed(file, undefined, `${file} is missing from the bundle`);
      else if (found.sha256 !== listed.sha256) {
        this.fail({ kind: 'bundle-file-altered', file, message: `${file} was altered: its SHA-256 is ${found.sha256}, the manifest says ${listed.sha256} (${found.lines} lines, the manifest says ${listed.lines})` });
      }
    }
  }

  // ── checkpoints ─────────────────────────────────────────────────────────

  private async checkCheckpoints(manifest: BundleManifest): Promise<void> {
    const file = BUNDLE_FILES.checkpoints;
    for await (const { line, value } of parsedLines(this.source, file, signedCheckpointSchema, this.failures)) {
      this.checkpointLines = line;
      const { head } = value;
      if (head.sequence !== line) {
        this.fail({ kind: head.sequence > line ? 'checkpoint-missing' : 'checkpoint-out-of-order', checkpoint: line, file, line, message: `${file} line ${line} holds checkpoint #${head.sequence}, not #${line}: checkpoints are missing or out of order` });
      }
      const signature = checkSignature(value, this.trusted);
      if (signature === 'untrusted-key') this.fail({ kind: 'checkpoint-untrusted-key', checkpoint: head.sequence, file, line, message: `checkpoint #${head.sequence} (${file} line ${line}) is signed by key ${head.keyId}, which is not trusted` });
      if (signature === 'bad-signature') this.fail({ kind: 'checkpoint-bad-signature', checkpoint: head.sequence, file, line, message: `checkpoint #${head.sequence} (${file} line ${line}) has a signature that does not verify: it was altered or forged` });
      this.heads.set(head.sequence, head);
    }
    const anchor = this.heads.get(manifest.anchor.sequence);
    if (!anchor || anchor.treeSize !== manifest.anchor.treeSize || anchor.rootHash !== manifest.anchor.rootHash) {
      this.fail({ kind: 'checkpoint-missing', checkpoint: manifest.anchor.sequence, file, message: `the anchor checkpoint #${manifest.anchor.sequence} named by the manifest is not in ${file} as described` });
    }
  }

  /** Each checkpoint must extend the one before it: the log only ever grew. */
  private async checkConsistency(manifest: BundleManifest): Promise<void> {
    const file = BUNDLE_FILES.consistencyProofs;
    const proven = new Set<number>();
    for await (const { line, value } of parsedLines(this.source, file, consistencyProofLineSchema, this.failures)) {
      const [from, to] = [this.heads.get(value.fromSequence), this.heads.get(value.toSequence)];
      if (!from || !to || value.toSequence !== value.fromSequence + 1 || from.treeSize !== value.fromTreeSize || to.treeSize !== value.toTreeSize) {
        this.malformed(file, line, `${file} line ${line} does not describe two consecutive checkpoints of ${BUNDLE_FILES.checkpoints}`);
        continue;
      }
      proven.add(value.toSequence);
      if (!verifyConsistency(from.treeSize, to.treeSize, fromHex(from.rootHash), fromHex(to.rootHash), value.proof.map(fromHex))) {
        this.fail({
          kind: 'checkpoint-inconsistent',
          checkpoint: to.sequence,
          file,
          line,
          message: `checkpoint #${to.sequence} (root ${to.rootHash}) does not extend checkpoint #${from.sequence}: their consistency proof (${file} line ${line}) fails, so one of their roots was altered or the log was rewritten between them`,
        });
      }
    }
    for (let sequence = 2; sequence <= manifest.anchor.sequence; sequence += 1) {
      if (this.heads.has(sequence) && this.heads.has(sequence - 1) && !proven.has(sequence)) {
        this.malformed(file, undefined, `${file} has no proof that checkpoint #${sequence} extends #${sequence - 1}`);
      }
    }
  }

  private malformed(file: string, line: number | undefined, message: string): null {
    this.fail({ kind: 'bundle-malformed', file, ...(line === undefined ? {} : { line }), message });
    return null;
  }

  private fail(failure: Failure): void {
    this.failures.add(failure);
  }
}

/**
 * The events against their inclusion proofs, merged by position: events.jsonl holds the events as
 * exported, inclusion-proofs.jsonl one proof per sealed event of the range.
 */
class EventCheck {
  private readonly anchor: CheckpointHead | undefined;
  private chain: Buffer;
  private expectedIndex: number;
  private lastEventPosition = 0;
  private verified = 0;
  private previousEventMissing = false;
  private readonly headsBySize = new Map<number, CheckpointHead>();
  /** Proofs whose event was not at its place (at most 200), to recognise an event line moved elsewhere. */
  private readonly missing = new Map<number, InclusionProofLine>();
  /** "Missing" findings a moved line explained, dropped at the end. */
  private readonly explained = new Set<Failure>();

  constructor(
    private readonly source: BundleSource,
    private readonly manifest: BundleManifest,
    heads: ReadonlyMap<number, CheckpointHead>,
    private readonly failures: FailureList,
  ) {
    this.anchor = heads.get(manifest.anchor.sequence);
    this.chain = fromHex(manifest.chainBefore);
    this.expectedIndex = manifest.range.firstTreeIndex;
    for (const head of heads.values()) this.headsBySize.set(head.treeSize, head);
  }

  async run(onVerified: (count: number) => void): Promise<void> {
    const events = new Cursor(parsedLines(this.source, BUNDLE_FILES.events, eventLineSchema, this.failures));
    const proofs = parsedLines(this.source, BUNDLE_FILES.inclusionProofs, inclusionProofLineSchema, this.failures);
    let proofCount = 0;
    for await (const proof of proofs) {
      proofCount += 1;
      this.checkProofPlace(proof);
      for (let next = await events.peek(); next && next.value.position < proof.value.position; next = await events.peek()) this.unproven((await events.next())!);
      const event = await events.peek();
      if (event?.value.position === proof.value.position) {
        await events.next();
        this.compare(event, proof);
      } else this.noEventFor(proof);
      this.advanceChain(proof.value);
    }
    for (let event = await events.next(); event; event = await events.next()) this.unproven(event);
    this.failures.rewrite((failures) => failures.filter((failure) => !this.explained.has(failure)));
    this.recogniseTruncation();
    if (proofCount !== this.manifest.range.sealedEvents) {
      this.failures.add({ kind: 'bundle-malformed', file: BUNDLE_FILES.inclusionProofs, message: `${BUNDLE_FILES.inclusionProofs} holds ${proofCount} proofs; the manifest says ${this.manifest.range.sealedEvents}` });
    }
    onVerified(this.verified);
  }

  private checkProofPlace({ line, value }: Line<InclusionProofLine>): void {
    const file = BUNDLE_FILES.inclusionProofs;
    if (value.treeIndex !== this.expectedIndex || value.treeSize !== this.manifest.anchor.treeSize) {
      this.failures.add({ kind: 'bundle-malformed', file, line, position: value.position, message: `${file} line ${line} proves tree index ${value.treeIndex} in a tree of ${value.treeSize}; expected index ${this.expectedIndex} in the anchor's tree of ${this.manifest.anchor.treeSize}` });
    }
    this.expectedIndex = value.treeIndex + 1;
  }

  private compare(event: Line<CanonicalEvent>, { line, value: proof }: Line<InclusionProofLine>): void {
    this.lastEventPosition = event.value.position;
    this.previousEventMissing = false;
    const leaf = eventLeafHash(event.value);
    const proofHolds = this.anchor !== undefined && verifyInclusion(fromHex(proof.leafHash), proof.treeIndex, proof.treeSize, proof.auditPath.map(fromHex), fromHex(this.anchor.rootHash));
    if (!proofHolds) {
      this.failures.add({ kind: 'proof-invalid', position: proof.position, file: BUNDLE_FILES.inclusionProofs, line, message: `the inclusion proof of the event at position ${proof.position} (${BUNDLE_FILES.inclusionProofs} line ${line}) does not lead to the anchor checkpoint's root: the proof was altered` });
    }
    if (toHex(leaf) !== proof.leafHash) {
      this.failures.add({
        kind: 'event-modified',
        position: event.value.position,
        eventId: event.value.eventId,
        streamId: event.value.streamId,
        type: event.value.type,
        file: BUNDLE_FILES.events,
        line: event.line,
        message: `${describeEvent(event.value.position, event.value)} (${BUNDLE_FILES.events} line ${event.line}) was modified: its hash is not the one the log sealed`,
      });
      return;
    }
    if (proofHolds) this.verified += 1;
  }

  /** A proof whose event is not in events.jsonl at its place. */
  private noEventFor({ line, value: proof }: Line<InclusionProofLine>): void {
    const last = this.failures.last;
    if (this.previousEventMissing && last?.kind === 'event-deleted') {
      const count = (last.count ?? 1) + 1;
      this.failures.replaceLast({ ...last, toPosition: proof.position, count, message: `the ${count} events at positions ${last.position} to ${proof.position} are missing from ${BUNDLE_FILES.events} (their proofs start at ${BUNDLE_FILES.inclusionProofs} line ${last.line})` });
    } else {
      this.failures.add({ kind: 'event-deleted', position: proof.position, count: 1, file: BUNDLE_FILES.inclusionProofs, line, message: `the event at position ${proof.position} (proved by ${BUNDLE_FILES.inclusionProofs} line ${line}) is missing from ${BUNDLE_FILES.events}` });
    }
    this.previousEventMissing = true;
    if (this.missing.size < 200) this.missing.set(proof.position, proof);
  }

  /** An event without a proof at its place: moved out of order, or inserted. */
  private unproven(event: Line<CanonicalEvent>): void {
    const file = BUNDLE_FILES.events;
    const { position } = event.value;
    this.previousEventMissing = false;
    const missing = this.missing.get(position);
    if (missing && position < this.lastEventPosition && toHex(eventLeafHash(event.value)) === missing.leafHash) {
      this.missing.delete(position);
      const deletion = this.failures.items.find((f) => f.kind === 'event-deleted' && f.position === position && f.count === 1);
      if (deletion) this.explained.add(deletion);
      this.failures.add({ kind: 'event-moved', position, eventId: event.value.eventId, streamId: event.value.streamId, type: event.value.type, file, line: event.line, message: `${describeEvent(position, event.value)} is out of place in ${file} (line ${event.line}, after position ${this.lastEventPosition}): events were reordered` });
      return;
    }
    this.lastEventPosition = Math.max(this.lastEventPosition, position);
    this.failures.add({ kind: 'event-inserted', position, eventId: event.value.eventId, streamId: event.value.streamId, type: event.value.type, file, line: event.line, message: `${describeEvent(position, event.value)} (${file} line ${event.line}) was inserted: no proof puts it in the signed log` });
  }

  private advanceChain(proof: InclusionProofLine): void {
    this.chain = nextChainHash(this.chain, fromHex(proof.leafHash));
    const head = this.headsBySize.get(proof.treeIndex + 1);
    if (head && head.chainHash !== toHex(this.chain)) {
      this.failures.add({ kind: 'checkpoint-chain-mismatch', checkpoint: head.sequence, position: proof.position, message: `the hash chain over the exported events does not reach checkpoint #${head.sequence}'s chain hash at position ${proof.position}` });
    }
  }

  /** Missing events that run to the last proof, with no event after them: events.jsonl was cut short. */
  private recogniseTruncation(): void {
    const last = this.failures.last;
    if (last?.kind !== 'event-deleted' || !this.previousEventMissing) return;
    const to = last.toPosition ?? last.position!;
    this.failures.replaceLast({ ...last, kind: 'log-truncated', toPosition: to, message: `${BUNDLE_FILES.events} was truncated: the ${last.count ?? 1} events from position ${last.position} to ${to} are missing` });
  }
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** The lines of a JSON Lines file, parsed and checked; a bad line is a failure naming it, and is skipped. */
async function* parsedLines<T>(
  source: BundleSource,
  file: string,
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError } },
  failures: FailureList,
): AsyncIterable<Line<T>> {
  let line = 0;
  for await (const text of source.lines(file)) {
    line += 1;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      failures.add({ kind: 'bundle-malformed', file, line, message: `${file} line ${line} is not JSON` });
      continue;
    }
    const parsed = schema.safeParse(json);
    if (parsed.success) yield { line, value: parsed.data };
    else failures.add({ kind: 'bundle-malformed', file, line, message: `${file} line ${line}: ${firstIssue(parsed.error)}` });
  }
}
