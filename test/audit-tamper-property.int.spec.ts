import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { SoftwareCheckpointSigner, TrustedKeys, verifyStore, type Failure } from '@keyledger/audit';
import { SqliteEventStore } from '@keyledger/event-store-sqlite';
import { buildSealedLog, SqliteTamper, type LogTamper } from './audit-support.js';

/**
 * Property: over random logs (size, streams, checkpoint frequency) and one random tampering of the
 * SQLite file anywhere before the last checkpoint, `audit verify` always fails, and its first
 * failure names the tampered event or checkpoint.
 */
type Tampering =
  | { kind: 'modify'; pick: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'insert'; pick: number }
  | { kind: 'swap'; pick: number; other: number }
  | { kind: 'truncate'; pick: number }
  | { kind: 'flip-signature'; pick: number }
  | { kind: 'alter-sealed-leaf'; pick: number }
  | { kind: 'delete-checkpoint'; pick: number };

const tampering: fc.Arbitrary<Tampering> = fc.oneof(
  fc.record({ kind: fc.constant('modify' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), pick: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('flip-signature' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('alter-sealed-leaf' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('delete-checkpoint' as const), pick: fc.nat() }),
);

/** Applies the tampering and returns what the first failure must say. */
async function apply(t: LogTamper, change: Tampering): Promise<(failure: Failure, all: readonly Failure[]) => void> {
  const positions = await t.eventPositions();
  const checkpoints = await t.checkpointCount();
  const position = positions[change.pick % positions.length]!;
  const sequence = 1 + (change.pick % checkpoints);
  switch (change.kind) {
    case 'modify': {
      const event = await t.eventAt(position);
      await t.setData(position, { ...(event.data as object), tampered: true });
      return (f) => expect(f).toMatchObject({ kind: 'event-modified', position });
    }
    case 'delete':
      await t.deleteEvent(position);
      return (f) => {
        expect(['event-deleted', 'log-truncated']).toContain(f.kind);
        expect(f.position).toBe(position);
      };
    case 'insert':
      await t.insertForgedAt(position);
      return (f) => expect(f).toMatchObject({ kind: 'event-inserted', position });
    case 'swap': {
      const other = positions[(change.pick + 1 + (change.other % (positions.length - 1))) % positions.length]!;
      await t.swap(position, other);
      return (f) => expect(f).toMatchObject({ kind: 'event-moved', position: Math.min(position, other), sealedAtPosition: Math.max(position, other) });
    }
    case 'truncate':
      await t.truncateEventsFrom(position);
      return (f) => expect(f).toMatchObject({ kind: 'log-truncated', position });
    case 'flip-signature': {
      const record = await t.checkpoint(sequence);
      const signature = Buffer.from(record.signature, 'base64');
      signature[change.pick % 64] ^= 0x01;
      await t.setCheckpoint(sequence, { ...record, signature: signature.toString('base64') });
      return (f) => expect(f).toMatchObject({ kind: 'checkpoint-bad-signature', checkpoint: sequence });
    }
    case 'alter-sealed-leaf': {
      const record = await t.checkpoint(sequence);
      const at = change.pick % record.leaves.length;
      const leaves = record.leaves.map(([p, h], i) => [p, i === at ? `${h[0] === '0' ? '1' : '0'}${h.slice(1)}` : h] as const);
      await t.setCheckpoint(sequence, { ...record, leaves });
      return (_, all) => expect(all).toContainEqual(expect.objectContaining({ kind: 'checkpoint-root-mismatch', checkpoint: sequence }));
    }
    case 'delete-checkpoint': {
      // The last checkpoint gone is the documented limit (a shorter sealed log); any other is detected.
      if (checkpoints < 2) return apply(t, { kind: 'modify', pick: change.pick });
      const earlier = 1 + (change.pick % (checkpoints - 1));
      await t.deleteCheckpoint(earlier);
      return (f) => expect(f).toMatchObject({ kind: 'checkpoint-missing', checkpoint: earlier });
    }
    default: {
      const _exhaustive: never = change;
      throw new Error(`unknown tampering ${String(_exhaustive)}`);
    }
  }
}

describe('tamper detection (property)', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'keyledger-tamper-prop-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('detects and locates any single tampering of any random log', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({ appends: fc.integer({ min: 2, max: 25 }), streams: fc.integer({ min: 1, max: 4 }), checkpointEvery: fc.integer({ min: 1, max: 8 }) }),
        fc.nat(),
        tampering,
        async (shape, seed, change) => {
          const dir = join(root, `run-${(run += 1)}`);
          const file = join(dir, 'events.db');
          mkdirSync(dir, { recursive: true });
          const signer = await SoftwareCheckpointSigner.open(dir);
          const store = SqliteEventStore.open(file);
          await buildSealedLog(store, signer, shape, seed);
          await store.close();
          const tamper = new SqliteTamper(file);
          const expectFirst = await apply(tamper, change).finally(() => tamper.close());
          const tampered = SqliteEventStore.open(file);
          try {
            const report = await verifyStore(tampered, new TrustedKeys([signer.publicKey]), { pageSize: 5 });
            expect(report.intact).toBe(false);
            expectFirst(report.failures[0]!, report.failures);
          } finally {
            await tampered.close();
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});
