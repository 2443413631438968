import { LogBuilder } from '../../../test/hierarchy-fixtures.js';
import { HierarchyFold } from './key-hierarchy.js';
import { foldRewrapJob, rewrapDebt, rewrapTarget, skippedKey } from './plan.js';

const foldOf = (log: LogBuilder): HierarchyFold => {
  const fold = new HierarchyFold();
  log.events.forEach((event) => fold.apply(event));
  return fold;
};

describe('rewrap planning', () => {
  const kekWithDeks = () =>
    new LogBuilder()
      .generate('kek', 'kek')
      .activate('kek')
      .generate('dek-a', 'dek', { parent: ['kek', 1] })
      .generate('dek-b', 'dek', { parent: ['kek', 1] })
      .activate('dek-b')
      .rotate('dek-b', 2, 1);

  it('owes nothing while the KEK has a single version', () => {
    expect(rewrapDebt(foldOf(kekWithDeks()), 'kek', 1, new Set())).toEqual([]);
  });

  it('after a KEK rotation, owes every DEK version still under an older KEK version', () => {
    const hierarchy = foldOf(kekWithDeks().rotate('kek', 2));

    const debt = rewrapDebt(hierarchy, 'kek', rewrapTarget(hierarchy.key('kek')!)!.version, new Set());

    expect(debt.map((d) => [d.dekId, d.dekVersion, d.fromKekVersion, d.materialRef])).toEqual([
      ['dek-a', 1, 1, 'ref-dek-a-1'],
      ['dek-b', 1, 1, 'ref-dek-b-1'],
      ['dek-b', 2, 1, 'ref-dek-b-2'],
    ]);
  });

  it('forgets what a DekRewrapped moved, destroyed DEK versions, and what a job toward the target gave up on', () => {
    const hierarchy = foldOf(kekWithDeks().rotate('kek', 2).rewrapped('kek', 'dek-a', 1, 1, 2).destroyed('dek-b', 1));

    const debt = rewrapDebt(hierarchy, 'kek', 2, new Set([skippedKey('dek-b', 2, 2)]));

    expect(debt).toEqual([]);
  });

  it('owes DEKs under every older version, not only the previous one', () => {
    const hierarchy = foldOf(kekWithDeks().rotate('kek', 2).generate('dek-c', 'dek', { parent: ['kek', 2] }).rotate('kek', 3));

    expect(rewrapDebt(hierarchy, 'kek', 3, new Set()).map((d) => [d.dekId, d.fromKekVersion])).toEqual([
      ['dek-a', 1],
      ['dek-b', 1],
      ['dek-b', 1],
      ['dek-c', 2],
    ]);
  });

  it('has no target for a KEK without an active version, nor for a DEK', () => {
    const hierarchy = foldOf(kekWithDeks().generate('idle', 'kek'));
    expect(rewrapTarget(hierarchy.key('idle')!)).toBeNull();
    expect(rewrapTarget(hierarchy.key('dek-b')!)).toBeNull();
  });

  it('ignores events it has already applied (a replay is idempotent)', () => {
    const log = kekWithDeks().rotate('kek', 2).rewrapped('kek', 'dek-a', 1, 1, 2);
    const fold = foldOf(log);
    log.events.forEach((event) => fold.apply(event));
    expect(rewrapDebt(fold, 'kek', 2, new Set()).map((d) => d.dekId)).toEqual(['dek-b', 'dek-b']);
  });
});

describe('the job stream', () => {
  const job = (...entries: [string, object][]) => entries.map(([type, data], revision) => ({ type, data, revision }));

  it('has no open job on an empty stream', () => {
    expect(foldRewrapJob([])).toEqual({ revision: 'no-stream', open: null, skipped: new Set() });
  });

  it('finds an open job with its progress, to resume it', () => {
    const state = foldRewrapJob(
      job(
        ['DekRewrapStarted', { jobId: 'j1', toVersion: 2 }],
        ['DekRewrapped', { jobId: 'j1' }],
        ['DekRewrapSkipped', { jobId: 'j1', dekId: 'd', dekVersion: 1, toKekVersion: 2 }],
      ),
    );
    expect(state.revision).toBe(2);
    expect(state.open).toEqual({ jobId: 'j1', toVersion: 2, rewrapped: 1, skipped: 1 });
    expect(state.skipped.has(skippedKey('d', 1, 2))).toBe(true);
  });

  it('closes a job on DekRewrapCompleted, keeping what it skipped', () => {
    const state = foldRewrapJob(
      job(
        ['DekRewrapStarted', { jobId: 'j1', toVersion: 2 }],
        ['DekRewrapSkipped', { jobId: 'j1', dekId: 'd', dekVersion: 1, toKekVersion: 2 }],
        ['DekRewrapCompleted', { jobId: 'j1' }],
      ),
    );
    expect(state.open).toBeNull();
    expect([...state.skipped]).toEqual([skippedKey('d', 1, 2)]);
  });

  it('refuses an event that does not belong on a rewrap stream', () => {
    expect(() => foldRewrapJob(job(['KeyRotated', {}]))).toThrow(/Unexpected event/);
  });
});
