import { ConcurrencyError } from '@keyledger/event-store';
import { planBatch, type PendingAppend } from './batch-plan.js';
import { AsyncGroupCommit } from './group-commit.js';

const serialized = (type: string) => ({ type, schemaVersion: 1, data: '{}', metadata: '{}' });
const append = (streamId: string, types: string[], expected: PendingAppend['expected']): PendingAppend => ({
  streamId,
  events: types.map(serialized),
  expected,
});
const ids = () => {
  let next = 0;
  return () => `id-${++next}`;
};

describe('planBatch', () => {
  it('gives accepted events consecutive positions after the head, in batch order', () => {
    const plan = planBatch([append('a', ['A0', 'A1'], 'no-stream'), append('b', ['B3'], 2)], new Map([['b', 2]]), 10, ids());

    expect(plan.rows.map((row) => [row.position, row.streamId, row.revision, row.type, row.eventId])).toEqual([
      [11, 'a', 0, 'A0', 'id-1'],
      [12, 'a', 1, 'A1', 'id-2'],
      [13, 'b', 3, 'B3', 'id-3'],
    ]);
    expect(plan.outcomes).toEqual([
      { ok: true, value: { nextExpectedRevision: 1, lastPosition: 12 } },
      { ok: true, value: { nextExpectedRevision: 3, lastPosition: 13 } },
    ]);
    expect(plan.head).toBe(13);
  });

  it('checks a later append against the revision an earlier append of the same batch left', () => {
    const plan = planBatch(
      [append('s', ['First'], 'no-stream'), append('s', ['Again'], 'no-stream'), append('s', ['Next'], 0)],
      new Map(),
      0,
      ids(),
    );

    expect(plan.outcomes[1]).toEqual({ ok: false, error: new ConcurrencyError('s', 'no-stream', 0) });
    expect(plan.outcomes[2]).toEqual({ ok: true, value: { nextExpectedRevision: 1, lastPosition: 2 } });
    expect(plan.rows.map((row) => row.type)).toEqual(['First', 'Next']);
  });

  it('gives a refused append no position, so the log keeps no gap', () => {
    const plan = planBatch([append('x', ['Stale'], 4), append('y', ['Fresh'], 'any')], new Map([['x', 5]]), 7, ids());

    expect(plan.outcomes[0]).toMatchObject({ ok: false, error: { streamId: 'x', expected: 4, actual: 5 } });
    expect(plan.rows.map((row) => row.position)).toEqual([8]);
    expect(plan.head).toBe(8);
  });
});

describe('AsyncGroupCommit', () => {
  it('commits the first piece of work at once and groups what arrives meanwhile', async () => {
    const batches: number[][] = [];
    const group = new AsyncGroupCommit<number, number>(async (batch) => {
      batches.push([...batch]);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return batch.map((value) => ({ ok: true, value: value * 10 }));
    }, 3);

    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((work) => group.submit(work)));

    expect(results).toEqual([10, 20, 30, 40, 50, 60]);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('rejects every piece of a batch whose commit throws, and carries on with the next batch', async () => {
    let calls = 0;
    const group = new AsyncGroupCommit<string, string>(async (batch) => {
      calls += 1;
      if (calls === 1) throw new Error('connection lost');
      return batch.map((value) => ({ ok: true, value }));
    }, 10);

    const first = group.submit('a');
    const second = group.submit('b');
    await expect(first).rejects.toThrow('connection lost');
    await expect(second).resolves.toBe('b');
  });

  it('does not strand work submitted just as a commit loop ends', async () => {
    const group = new AsyncGroupCommit<number, number>(async (batch) => batch.map((value) => ({ ok: true, value })), 1);

    const first = group.submit(1);
    await first;
    // The loop may still be unwinding here: this submission must start it again.
    await expect(group.submit(2)).resolves.toBe(2);
    await group.drain();
  });
});
