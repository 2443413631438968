import fc from 'fast-check';
import {
  KeyReplay,
  PROJECTION_NAMES,
  ReadSide,
  compromiseExposures,
  complianceReport,
  evaluateRules,
  rebuildProjections,
  tenantsWithActiveKek,
  type ComplianceInputs,
  type Finding,
} from '@keyledger/read-models';
import { dumpReadModels, LogWriter, readFixture } from './support/read-log.js';

/**
 * For random valid logs (keys of every purpose through random lifecycle commands, uses, denials,
 * ceremonies and events of unknown types), projected by the live runner in random batch sizes and
 * restarted at random points:
 *  - the read models equal a rebuild from zero, table for table and row for row;
 *  - the inventory at any instant T equals the keys folded from the events recorded up to T.
 */
const DAY_MS = 86_400_000;
const LIFECYCLE = ['ActivateKey', 'SuspendKey', 'ReactivateKey', 'DeactivateKey', 'RevokeKey', 'ScheduleKeyDestruction', 'CancelKeyDestruction', 'DestroyKey', 'RotateKey'] as const;

type Op =
  | { kind: 'generate'; purpose: 'root' | 'kek' | 'dek'; tenant: number; pick: number; classified: boolean }
  | { kind: 'lifecycle'; pick: number; command: (typeof LIFECYCLE)[number]; version: number | undefined; compromised: boolean }
  | { kind: 'use'; pick: number; version: number; operation: string; denied: boolean }
  | { kind: 'ceremony'; pick: number | null }
  | { kind: 'rewrap'; pick: number }
  | { kind: 'unknown' }
  | { kind: 'restart' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('generate' as const), purpose: fc.constantFrom('root' as const, 'kek' as const, 'dek' as const), tenant: fc.nat(2), pick: fc.nat(), classified: fc.boolean() }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('lifecycle' as const),
      pick: fc.nat(),
      command: fc.constantFrom(...LIFECYCLE),
      version: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      compromised: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('use' as const),
      pick: fc.nat(),
      version: fc.integer({ min: 1, max: 3 }),
      operation: fc.constantFrom('encrypt', 'decrypt', 'generate-data-key', 'wrap', 'distribute'),
      denied: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ceremony' as const), pick: fc.option(fc.nat(), { nil: null }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rewrap' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'unknown' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

describe('read models: incremental equals rebuild, and point in time equals the prefix of the log', () => {
  it('holds for random logs, batch sizes and restarts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 80, size: 'max' }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 9 }), async (ops, runnerBatch, rebuildBatch) => {
        const fixture = readFixture();
        let day = 0;
        const log = new LogWriter(fixture.store, () => new Date(Date.UTC(2025, 0, 1) + day * DAY_MS).toISOString());
        const incremental = fixture.openStorage('incremental.db');
        const start = async () => {
          const side = new ReadSide(fixture.store, incremental, { batchSize: runnerBatch, catchUpTimeoutMs: 10_000 });
          await side.start();
          return side;
        };
        let side = await start();
        try {
          for (const op of ops) {
            day += 3;
            if (op.kind === 'restart') {
              await side.stop();
              side = await start();
            } else {
              await apply(log, op);
            }
          }
          await side.caughtUp(PROJECTION_NAMES);
          await side.stop();

          const rebuilt = fixture.openStorage('rebuilt.db');
          await rebuildProjections(fixture.store, rebuilt, PROJECTION_NAMES, { batchSize: rebuildBatch });
          expect(dumpReadModels(incremental)).toEqual(dumpReadModels(rebuilt));

          const events = await fixture.store.readAll();
          const instants = ['2000-01-01T00:00:00.000Z', ...events.filter((_, i) => i % 4 === 0).map((e) => e.metadata.recordedAt), '2999-01-01T00:00:00.000Z'];
          for (const at of instants) {
            const replay = new KeyReplay(at);
            replay.apply(events);
            const projected = await incremental.inventory.list({ at, sort: 'createdAt', limit: 10_000 });
            expect({ at, keys: projected }).toEqual({ at, keys: replay.keysAt() });
          }
          expect(await incremental.inventory.list({ sort: 'createdAt', limit: 10_000 })).toEqual(withAll(events).keysAt());

          // The compliance report reads only candidate keys: it must find what the rules find over every key.
          const now = new Date(Date.UTC(2025, 0, 1) + day * DAY_MS).toISOString();
          const everyKey = await incremental.inventory.all();
          const [ceremonies, deniedUses] = [await incremental.compliance.facts('ceremony-closed'), await incremental.compliance.facts('use-after-deactivation')];
          const report = await complianceReport(incremental, now);
          const exposures = await compromiseExposures(incremental, everyKey);
          const expected = evaluateRules({ now, keys: everyKey, tenantsWithActiveKek: tenantsWithActiveKek(everyKey), ceremonies, deniedUses, exposures } as ComplianceInputs);
          expect(sortFindings(report.findings)).toEqual(sortFindings(expected));
        } finally {
          await side.stop();
          await fixture.cleanup();
        }
      }),
      { numRuns: 25 },
    );
  });
});

const sortFindings = (findings: readonly Finding[]): Finding[] => [...findings].sort((a, b) => a.id.localeCompare(b.id));

const withAll = (events: Parameters<KeyReplay['apply']>[0]): KeyReplay => {
  const replay = new KeyReplay('2999-01-01T00:00:00.000Z');
  replay.apply(events);
  return replay;
};

async function apply(log: LogWriter, op: Exclude<Op, { kind: 'restart' }>): Promise<void> {
  const keys = log.keyIds();
  const pick = (n: number) => keys[n % keys.length];
  switch (op.kind) {
    case 'generate': {
      const parents = keys.filter((id) => log.key(id).purpose === (op.purpose === 'dek' ? 'kek' : 'root'));
      if (op.purpose === 'dek' && parents.length === 0) return;
      // A DEK always has a KEK above it; a KEK sometimes has no root (a KMS KEK, say).
      const withParent = op.purpose === 'dek' || (op.purpose === 'kek' && parents.length > 0 && op.pick % 3 !== 0);
      const parent = withParent ? parents[op.pick % parents.length] : undefined;
      const tenantId = op.purpose === 'dek' && parent ? log.key(parent).tenantId : `tenant-${op.tenant}`;
      await log.generate({ tenantId, purpose: op.purpose, ...(parent ? { parent } : {}), classifications: op.classified ? ['ephi'] : [] });
      return;
    }
    case 'lifecycle': {
      const keyId = pick(op.pick);
      if (keyId) await lifecycle(log, keyId, op);
      return;
    }
    case 'use': {
      const keyId = pick(op.pick);
      if (!keyId) return;
      if (op.denied) await log.denied(keyId, op.version, op.operation);
      else await log.used(keyId, op.version, op.operation);
      return;
    }
    case 'ceremony':
      await log.ceremonyClosed(op.pick === null ? null : (pick(op.pick) ?? null), new Date(Date.UTC(2025, 0, 1)).toISOString());
      return;
    case 'rewrap': {
      // The KEK rotation job moves a DEK version under its KEK's current version.
      const deks = keys.filter((id) => log.key(id).purpose === 'dek');
      const dek = deks[op.pick % Math.max(deks.length, 1)];
      if (!dek) return;
      const key = log.key(dek);
      await log.dekRewrapped(dek, key.currentVersion, log.key(key.parentKeyId!).currentVersion);
      if (op.pick % 2 === 0) await log.rewrapUse(key.parentKeyId!, 1, log.key(key.parentKeyId!).currentVersion);
      else await log.failed(dek, key.currentVersion, 'decrypt');
      return;
    }
    case 'unknown':
      await log.unknown('SomethingNewHappened', { keyId: pick(0) ?? null });
      return;
    default: {
      const _exhaustive: never = op;
      throw new Error(`unknown op ${JSON.stringify(_exhaustive)}`);
    }
  }
}

async function lifecycle(log: LogWriter, keyId: string, op: Extract<Op, { kind: 'lifecycle' }>): Promise<void> {
  const version = op.version === undefined ? {} : { version: op.version };
  switch (op.command) {
    case 'RotateKey':
      await log.tryRotate(keyId);
      return;
    case 'RevokeKey':
      await log.tryCommand(keyId, 'RevokeKey', {
        ...version,
        reason: op.compromised ? 'compromised' : 'superseded',
        compromisedAt: op.compromised ? new Date(Date.UTC(2025, 0, 1)).toISOString() : null,
      });
      return;
    case 'ScheduleKeyDestruction':
      await log.tryCommand(keyId, 'ScheduleKeyDestruction', { ...version, waitingPeriodDays: 0, minimumWaitingPeriodDays: 0 });
      return;
    case 'DestroyKey': {
      const key = log.key(keyId);
      const target = key.versions.find((v) => v.version === (op.version ?? key.currentVersion));
      if (!target) return;
      const evidence = { custodian: key.custodian, materialRef: target.materialRef, method: 'erase', verifiedAbsent: true, verification: 'absent', destroyedAt: '' };
      await log.tryCommand(keyId, 'DestroyKey', { ...version, evidence });
      return;
    }
    case 'SuspendKey':
      await log.tryCommand(keyId, 'SuspendKey', { ...version, reason: null });
      return;
    case 'ActivateKey':
    case 'ReactivateKey':
    case 'DeactivateKey':
    case 'CancelKeyDestruction':
      await log.tryCommand(keyId, op.command, version);
      return;
    default: {
      const _exhaustive: never = op.command;
      throw new Error(`unknown command ${String(_exhaustive)}`);
    }
  }
}
