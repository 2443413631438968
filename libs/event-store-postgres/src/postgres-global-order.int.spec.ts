import { ConcurrencyError, type AppendResult, type RecordedEvent } from '@keyledger/event-store';
import { range, sleep, testEvent, uniqueStreamId, waitUntil } from '../../event-store/src/contract-helpers.js';
import { createTestDatabase, uniqueSchema, withConnection, type TestDatabase } from '../test/test-database.js';
import { PostgresEventStore, type PostgresEventStoreOptions } from './postgres-event-store.js';

/**
 * The sequence-gap trap of PostgreSQL event stores: a writer takes position N, another takes N+1
 * and commits first; a reader tailing by position sees N+1, moves past N, and never sees N when
 * it commits. Here each store stands for an API process (its own pool), and commits are delayed
 * on purpose inside the real adapter's transaction.
 */
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('order');
});
afterAll(async () => {
  await database.drop();
});

describe('PostgresEventStore global order across processes', () => {
  let schema: string;
  const opened: PostgresEventStore[] = [];
  const apiProcess = async (options: Partial<PostgresEventStoreOptions> = {}): Promise<PostgresEventStore> => {
    const store = PostgresEventStore.open({ connectionString: database.url, schema, poolSize: 4, pollIntervalMs: 20, ...options });
    opened.push(store);
    await store.ready();
    return store;
  };
  const tail = (reader: PostgresEventStore, received: RecordedEvent[]) =>
    reader.subscribeToAll({ after: 0, onEvent: (event) => void received.push(event) });

  beforeEach(() => {
    schema = uniqueSchema('order');
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    await withConnection(database.url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  });

  it('never lets a tailing reader skip an event whose transaction commits late', async () => {
    const late = holdFirstCommit();
    const slowWriter = await apiProcess({ beforeCommit: late.hook });
    const fastWriter = await apiProcess();
    const reader = await apiProcess();
    const received: RecordedEvent[] = [];
    const subscription = tail(reader, received);

    const lateAppend = slowWriter.appendToStream(uniqueStreamId('late'), [testEvent('Late')], 'no-stream');
    await late.entered; // its event is written, its transaction still open
    const fastAppends = [
      fastWriter.appendToStream(uniqueStreamId('fast'), [testEvent('Fast1')], 'no-stream'),
      fastWriter.appendToStream(uniqueStreamId('fast'), [testEvent('Fast2')], 'no-stream'),
    ];
    try {
      await sleep(300); // the reader polls many times while the late transaction is open
      expect(received).toEqual([]); // nothing after the open transaction may be visible before it
    } finally {
      late.release();
    }
    const results = await Promise.all([lateAppend, ...fastAppends]);
    await waitUntil(() => received.length === 3, 'the three events');
    await subscription.close();

    expect(received.map((event) => [event.position, event.type])).toEqual([
      [1, 'Late'],
      [2, 'Fast1'],
      [3, 'Fast2'],
    ]);
    expect(results.map((result) => result.lastPosition)).toEqual([1, 2, 3]);
    expect(received).toEqual(await reader.readAll());
  });

  it('delivers every acknowledged event exactly once, in position order, under concurrent writers with random commit delays', async () => {
    const randomDelay = async () => sleep(Math.floor(Math.random() * 15));
    const writers = await Promise.all(range(3).map(() => apiProcess({ beforeCommit: randomDelay })));
    const reader = await apiProcess();
    const received: RecordedEvent[] = [];
    const subscription = tail(reader, received);

    const acknowledged = await Promise.all(
      range(120).map(async (index): Promise<AppendResult & { streamId: string }> => {
        const streamId = uniqueStreamId(`w${index % 3}`);
        const result = await writers[index % 3]!.appendToStream(streamId, [testEvent('A'), testEvent('B')], 'no-stream');
        return { ...result, streamId };
      }),
    );
    await waitUntil(() => received.length >= 240, 'every event at the reader', 15_000);
    await sleep(100);
    await subscription.close();

    expect(received.map((event) => event.position)).toEqual(range(240).map((offset) => offset + 1));
    const atPosition = new Map(received.map((event) => [event.position, event]));
    for (const { streamId, lastPosition, nextExpectedRevision } of acknowledged) {
      expect(atPosition.get(lastPosition)).toMatchObject({ streamId, revision: nextExpectedRevision, type: 'B' });
    }
    expect(received).toEqual(await reader.readAll());
  });

  it('lets exactly one of many processes append at the same expected revision', async () => {
    const [first, second] = [await apiProcess(), await apiProcess()];
    const streamId = uniqueStreamId('contended');
    await first.appendToStream(streamId, [testEvent('Opened')], 'no-stream');

    const attempts = await Promise.allSettled(
      range(20).map((attempt) => (attempt % 2 ? first : second).appendToStream(streamId, [testEvent('Changed', { attempt })], 0)),
    );

    expect(attempts.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of attempts.filter((o): o is PromiseRejectedResult => o.status === 'rejected')) {
      expect(outcome.reason).toBeInstanceOf(ConcurrencyError);
      expect(outcome.reason).toMatchObject({ streamId, expected: 0, actual: 1 });
    }
    expect((await second.readStream(streamId)).map((event) => event.revision)).toEqual([0, 1]);
  });
});

/** A beforeCommit hook that holds the first transaction open until released. */
function holdFirstCommit(): { hook: () => Promise<void>; entered: Promise<void>; release: () => void } {
  let held = false;
  let signalEntered: () => void = () => undefined;
  let release: () => void = () => undefined;
  const entered = new Promise<void>((resolve) => (signalEntered = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    entered,
    release,
    hook: async () => {
      if (held) return;
      held = true;
      signalEntered();
      await released;
    },
  };
}
