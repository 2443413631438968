import { cpSync, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  BUNDLE_FILES,
  exportBundle,
  SoftwareCheckpointSigner,
  verifyBundleAt,
  writeBundleTar,
  type BundleReport,
  type ExportOptions,
} from '@keyledger/audit';
import { SqliteEventStore } from '@keyledger/event-store-sqlite';
import { anotherKey, buildSealedLog, genuineSigningKey, resignHead } from './audit-support.js';

/**
 * The audit bundle end to end on a real SQLite log: exported, verified offline (folder and tar),
 * and each kind of tampering applied to the bundle's own files is detected and located.
 */
describe('audit bundle', () => {
  let dir: string;
  let signer: SoftwareCheckpointSigner;
  let pristine: string;
  let copies = 0;

  const exportTo = async (options: ExportOptions = {}): Promise<string> => {
    const out = join(dir, `bundle-${(copies += 1)}`);
    const store = SqliteEventStore.open(join(dir, 'events.db'));
    try {
      await exportBundle(store, out, { signer, ...options });
    } finally {
      await store.close();
    }
    return out;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyledger-bundle-'));
    signer = await SoftwareCheckpointSigner.open(dir);
    const store = SqliteEventStore.open(join(dir, 'events.db'));
    await buildSealedLog(store, signer, { appends: 40, streams: 5, checkpointEvery: 9 }, 7);
    await store.close();
    pristine = await exportTo();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A copy of the pristine bundle, changed by `tamper`, then verified offline. */
  const tampered = async (tamper: (bundle: string) => void, pinned = true): Promise<BundleReport> => {
    const copy = join(dir, `tampered-${(copies += 1)}`);
    cpSync(pristine, copy, { recursive: true });
    tamper(copy);
    return verifyBundleAt(copy, pinned ? { pinnedKeys: [signer.publicKey] } : {});
  };
  const lines = (bundle: string, file: string): string[] => readFileSync(join(bundle, file), 'utf8').trimEnd().split('\n');
  const rewrite = (bundle: string, file: string, change: (lines: string[]) => string[]) => writeFileSync(join(bundle, file), `${change(lines(bundle, file)).join('\n')}\n`);
  const eventLine = (bundle: string, line: number) => JSON.parse(lines(bundle, BUNDLE_FILES.events)[line - 1]!);
  const first = (report: BundleReport) => {
    expect(report.intact).toBe(false);
    expect(report.summary).toMatch(/^FAILED: /);
    return report.failures[0]!;
  };

  it('verifies offline: every event proved in the anchor checkpoint, every checkpoint consistent with the next', async () => {
    const report = await verifyBundleAt(pristine, { pinnedKeys: [signer.publicKey] });
    expect(report.failures).toEqual([]);
    expect(report.intact).toBe(true);
    expect(report.manifestSigned).toBe(true);
    expect(report.keysPinned).toBe(true);
    expect(report.eventsVerified).toBe(lines(pristine, BUNDLE_FILES.events).length);
    expect(report.eventsVerified).toBe(report.range!.sealedEvents);
    expect(report.checkpoints).toBe(lines(pristine, BUNDLE_FILES.checkpoints).length);
    expect(lines(pristine, BUNDLE_FILES.consistencyProofs)).toHaveLength(report.checkpoints - 1);
    expect(report.summary).toMatch(/^bundle intact: \d+ events from position 1 to \d+ are in the log signed by checkpoint #\d+/);
  });

  it('says when the keys came from the bundle itself rather than from the auditor', async () => {
    const report = await verifyBundleAt(pristine);
    expect(report.intact).toBe(true);
    expect(report.keysPinned).toBe(false);
    expect(report.summary).toContain('pin them with --public-key');
  });

  it('exports a range, with proofs that still lead to the newest checkpoint', async () => {
    const events = lines(pristine, BUNDLE_FILES.events).map((l) => JSON.parse(l).position as number);
    const [from, to] = [events[10]!, events[25]!];
    const bundle = await exportTo({ fromPosition: from, toPosition: to });
    const report = await verifyBundleAt(bundle, { pinnedKeys: [signer.publicKey] });
    expect(report.failures).toEqual([]);
    expect(report.range).toMatchObject({ fromPosition: from, toPosition: to, sealedEvents: 16 });
    expect(lines(bundle, BUNDLE_FILES.events)).toHaveLength(16);
  });

  it('round-trips through a tar and a gzipped tar', async () => {
    for (const name of ['bundle.tar', 'bundle.tar.gz']) {
      const file = join(dir, name);
      await writeBundleTar(pristine, createWriteStream(file), name.endsWith('.gz'));
      const report = await verifyBundleAt(file, { pinnedKeys: [signer.publicKey] });
      expect(report.failures).toEqual([]);
      expect(report.eventsVerified).toBeGreaterThan(50);
    }
  });

  it('refuses to write into a folder that is not empty', async () => {
    const store = SqliteEventStore.open(join(dir, 'events.db'));
    try {
      await expect(exportBundle(store, pristine)).rejects.toMatchObject({ code: 'AUDIT.INVALID_RANGE' });
    } finally {
      await store.close();
    }
  });

  it('locates a modified field of one event, to its line', async () => {
    let position = 0;
    const report = await tampered((b) => {
      position = eventLine(b, 12).position;
      rewrite(b, BUNDLE_FILES.events, (all) => all.map((l, i) => (i === 11 ? l.replace('"fp-', '"fp-forged-') : l)));
    });
    expect(first(report)).toMatchObject({ kind: 'event-modified', position, file: 'events.jsonl', line: 12 });
    expect(report.failures.map((f) => f.kind)).toEqual(['event-modified', 'bundle-file-altered']);
  });

  it('locates a deleted event', async () => {
    let position = 0;
    const report = await tampered((b) => {
      position = eventLine(b, 20).position;
      rewrite(b, BUNDLE_FILES.events, (all) => all.filter((_, i) => i !== 19));
    });
    expect(first(report)).toMatchObject({ kind: 'event-deleted', position, count: 1 });
  });

  it('locates an inserted forged event', async () => {
    let line = 0;
    let position = 0;
    const report = await tampered((b) => {
      rewrite(b, BUNDLE_FILES.events, (all) => {
        // A free position inside the range: one the log gave to a checkpoint event, which bundles leave out.
        const positions = all.map((l) => JSON.parse(l).position as number);
        line = positions.findIndex((p, i) => i > 0 && p !== positions[i - 1]! + 1) + 1;
        position = positions[line - 1]! - 1;
        const forged = JSON.stringify({ ...JSON.parse(all[line - 1]!), eventId: 'forged', position });
        return [...all.slice(0, line - 1), forged, ...all.slice(line - 1)];
      });
    });
    expect(first(report)).toMatchObject({ kind: 'event-inserted', eventId: 'forged', position, file: 'events.jsonl', line });
    expect(report.failureCount).toBe(2); // and the file no longer has the manifest's hash
  });

  it('locates two swapped events', async () => {
    let position = 0;
    const report = await tampered((b) => {
      position = eventLine(b, 8).position;
      rewrite(b, BUNDLE_FILES.events, (all) => all.map((l, i) => (i === 7 ? all[8]! : i === 8 ? all[7]! : l)));
    });
    expect(first(report)).toMatchObject({ kind: 'event-moved', position, file: 'events.jsonl', line: 9 });
    expect(report.failures.map((f) => f.kind)).toEqual(['event-moved', 'bundle-file-altered']);
  });

  it('locates a truncated tail of events', async () => {
    let from = 0;
    const report = await tampered((b) => {
      const all = lines(b, BUNDLE_FILES.events);
      from = JSON.parse(all[all.length - 5]!).position;
      rewrite(b, BUNDLE_FILES.events, (l) => l.slice(0, -5));
    });
    expect(first(report)).toMatchObject({ kind: 'log-truncated', position: from, count: 5 });
  });

  it('locates a checkpoint forged with another key', async () => {
    const report = await tampered((b) =>
      rewrite(b, BUNDLE_FILES.checkpoints, (all) => all.map((l, i) => (i === 2 ? JSON.stringify(resignHead(JSON.parse(l), anotherKey(), true)) : l))),
    );
    expect(first(report)).toMatchObject({ kind: 'checkpoint-untrusted-key', checkpoint: 3, file: 'checkpoints.jsonl', line: 3 });
  });

  it('locates a corrupted checkpoint signature', async () => {
    const report = await tampered((b) =>
      rewrite(b, BUNDLE_FILES.checkpoints, (all) =>
        all.map((l, i) => {
          if (i !== 1) return l;
          const checkpoint = JSON.parse(l);
          const signature = Buffer.from(checkpoint.signature, 'base64');
          signature[3] ^= 1;
          return JSON.stringify({ ...checkpoint, signature: signature.toString('base64') });
        }),
      ),
    );
    expect(first(report)).toMatchObject({ kind: 'checkpoint-bad-signature', checkpoint: 2, line: 2 });
  });

  it('locates a checkpoint whose Merkle root does not match, even signed with the genuine key', async () => {
    const report = await tampered((b) =>
      rewrite(b, BUNDLE_FILES.checkpoints, (all) =>
        all.map((l, i) => {
          if (i !== 3) return l;
          const checkpoint = JSON.parse(l);
          const head = { ...checkpoint.head, rootHash: checkpoint.head.chainHash };
          return JSON.stringify(resignHead({ ...checkpoint, head }, genuineSigningKey(dir), false));
        }),
      ),
    );
    expect(first(report)).toMatchObject({ kind: 'checkpoint-inconsistent', checkpoint: 4 });
    expect(report.failures[1]).toMatchObject({ kind: 'checkpoint-inconsistent', checkpoint: 5 });
  });

  it('locates an altered inclusion proof', async () => {
    const report = await tampered((b) =>
      rewrite(b, BUNDLE_FILES.inclusionProofs, (all) =>
        all.map((l, i) => {
          if (i !== 6) return l;
          const proof = JSON.parse(l);
          return JSON.stringify({ ...proof, auditPath: [...proof.auditPath].reverse() });
        }),
      ),
    );
    expect(first(report)).toMatchObject({ kind: 'proof-invalid', file: 'inclusion-proofs.jsonl', line: 7 });
  });

  it('catches a manifest changed after signing', async () => {
    const report = await tampered((b) => {
      const manifest = JSON.parse(readFileSync(join(b, BUNDLE_FILES.manifest), 'utf8'));
      writeFileSync(join(b, BUNDLE_FILES.manifest), `${JSON.stringify({ ...manifest, createdAt: '2001-01-01T00:00:00.000Z' }, null, 2)}\n`);
    });
    expect(first(report)).toMatchObject({ kind: 'bundle-file-altered', file: 'manifest.json' });
  });

  it('catches a bundle re-signed wholesale with another key, once the auditor pins the genuine one', async () => {
    const intruder = anotherKey();
    const reSign = (b: string) => {
      rewrite(b, BUNDLE_FILES.checkpoints, (all) => all.map((l) => JSON.stringify(resignHead(JSON.parse(l), intruder, true))));
      rmSync(join(b, BUNDLE_FILES.manifestSignature));
    };
    const pinned = await tampered(reSign);
    expect(first(pinned)).toMatchObject({ kind: 'checkpoint-untrusted-key', checkpoint: 1 });
  });

  it('detects any single change of any event field, and names the line (property)', async () => {
    const eventCount = lines(pristine, BUNDLE_FILES.events).length;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: eventCount }), fc.constantFrom('type', 'streamId', 'revision', 'data', 'actor', 'recordedAt', 'eventId'), fc.string({ minLength: 1, maxLength: 8 }), async (line, field, value) => {
        const report = await tampered((b) =>
          rewrite(b, BUNDLE_FILES.events, (all) =>
            all.map((l, i) => {
              if (i !== line - 1) return l;
              const event = JSON.parse(l);
              if (field === 'actor' || field === 'recordedAt') event.metadata[field] = `${event.metadata[field]}${value}`;
              else if (field === 'revision') event.revision += 1;
              else if (field === 'data') event.data = { ...event.data, [value]: value };
              else event[field] = `${event[field]}${value}`;
              return JSON.stringify(event);
            }),
          ),
        );
        expect(report.intact).toBe(false);
        expect(report.failures[0]).toMatchObject({ file: 'events.jsonl', line });
      }),
      { numRuns: 40 },
    );
  });
});
