import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  expectConcurrencyError,
  range,
  sleep,
  testEvent as event,
  uniqueStreamId,
  waitUntil,
} from './contract-helpers.js';
import { ConcurrencyError, type EventStore, type RecordedEvent } from './index.js';

/**
 * The EventStore contract: every adapter runs this same suite from its own spec file, so the
 * domain can rely on one behaviour whatever the store. It tests only what the port promises.
 *
 * Imported by relative path from spec files only (it calls jest), never from production code.
 */
export { idempotencyContract, type IdempotencyFixture } from './idempotency-contract.js';

export interface EventStoreFixture {
  /** An open store with no events in it. */
  readonly store: EventStore;
  /** Opens the same storage again once `store` is closed; required unless `durable` is false. */
  readonly reopen?: () => Promise<EventStore>;
  /** Closes whatever is still open (store.close may already have been called) and drops the storage. */
  readonly cleanup: () => Promise<void>;
}

export interface EventStoreContractOptions {
  /** False for stores that keep nothing across a restart (in-memory fakes): the restart test is skipped. */
  readonly durable?: boolean;
  /** How long "nothing more arrives" is watched for; must exceed the adapter's poll interval. */
  readonly quietPeriodMs?: number;
  /**
   * False for stores whose positions increase but are not 1, 2, 3… (EventStoreDB's log positions
   * in bytes): the parallel-append case then checks distinct, increasing positions instead.
   */
  readonly densePositions?: boolean;
}

type StoreAccess = () => EventStore;

interface SuiteContext {
  readonly store: StoreAccess;
  readonly fixture: () => EventStoreFixture;
  readonly options: Required<EventStoreContractOptions>;
}

export function eventStoreContract(
  name: string,
  makeStore: () => Promise<EventStoreFixture>,
  options: EventStoreContractOptions = {},
): void {
  describe(`${name} honours the EventStore contract`, () => {
    let fixture: EventStoreFixture | undefined;
    beforeEach(async () => {
      fixture = await makeStore();
    });
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    const current = (): EventStoreFixture => {
      if (!fixture) throw new Error('makeStore did not run');
      return fixture;
    };
    const context: SuiteContext = {
      store: () => current().store,
      fixture: current,
      options: { durable: options.durable ?? true, quietPeriodMs: options.quietPeriodMs ?? 600, densePositions: options.densePositions ?? true },
    };

    describe('expected revision', () => expectedRevisionCases(context.store));
    describe('reading streams', () => readStreamCases(context.store));
    describe('global order', () => globalOrderCases(context.store));
    describe('concurrent appends', () => concurrencyCases(context.store, context.options.densePositions));
    describe('catch-up subscriptions', () => subscriptionCases(context));
    describe('restart', () => restartCases(context));
  });
}

function expectedRevisionCases(store: StoreAccess): void {
  it("appends to a new stream with 'no-stream' and reports where the append ended", async () => {
    const streamId = uniqueStreamId('new');
    const result = await store().appendToStream(streamId, [event('Opened'), event('Noted')], 'no-stream');

    const events = await store().readStream(streamId);
    expect(events.map((e) => [e.streamId, e.revision, e.type])).toEqual([
      [streamId, 0, 'Opened'],
      [streamId, 1, 'Noted'],
    ]);
    expect(result).toEqual({ nextExpectedRevision: 1, lastPosition: events[1]!.position });
  });

  it("rejects 'no-stream' on an existing stream with a ConcurrencyError", async () => {
    const streamId = uniqueStreamId('exists');
    await store().appendToStream(streamId, [event('Opened')], 'no-stream');

    await expectConcurrencyError(store().appendToStream(streamId, [event('Again')], 'no-stream'), {
      streamId,
      expected: 'no-stream',
      actual: 0,
    });
    expect(await store().readStream(streamId)).toHaveLength(1);
  });

  it('appends at the exact revision and rejects a stale one without appending', async () => {
    const streamId = uniqueStreamId('exact');
    const first = await store().appendToStream(streamId, [event('Opened')], 'no-stream');
    const second = await store().appendToStream(streamId, [event('Changed')], first.nextExpectedRevision);
    expect(second.nextExpectedRevision).toBe(1);

    await expectConcurrencyError(store().appendToStream(streamId, [event('Stale')], 0), {
      streamId,
      expected: 0,
      actual: 1,
    });
    expect((await store().readStream(streamId)).map((e) => e.type)).toEqual(['Opened', 'Changed']);
  });

  it('rejects an exact revision on a stream that does not exist', async () => {
    const streamId = uniqueStreamId('missing');
    await expectConcurrencyError(store().appendToStream(streamId, [event('Orphan')], 0), {
      streamId,
      expected: 0,
      actual: 'no-stream',
    });
    expect(await store().readStream(streamId)).toEqual([]);
  });

  it("appends with 'any' whether or not the stream exists", async () => {
    const streamId = uniqueStreamId('any');
    await store().appendToStream(streamId, [event('First')], 'any');
    const result = await store().appendToStream(streamId, [event('Second')], 'any');

    expect(result.nextExpectedRevision).toBe(1);
    expect((await store().readStream(streamId)).map((e) => e.type)).toEqual(['First', 'Second']);
  });

  it("appends with 'stream-exists' only to an existing stream", async () => {
    const streamId = uniqueStreamId('stream-exists');
    await expectConcurrencyError(store().appendToStream(streamId, [event('TooEarly')], 'stream-exists'), {
      streamId,
      expected: 'stream-exists',
      actual: 'no-stream',
    });

    await store().appendToStream(streamId, [event('Opened')], 'no-stream');
    const result = await store().appendToStream(streamId, [event('Changed')], 'stream-exists');
    expect(result.nextExpectedRevision).toBe(1);
  });

  it('appends several events all or none', async () => {
    const streamId = uniqueStreamId('atomic');
    await store().appendToStream(streamId, [event('Opened')], 'no-stream');
    const headBefore = await store().headPosition();

    const batch = [event('One'), event('Two'), event('Three')];
    await expect(store().appendToStream(streamId, batch, 'no-stream')).rejects.toBeInstanceOf(ConcurrencyError);

    expect((await store().readStream(streamId)).map((e) => e.type)).toEqual(['Opened']);
    expect(await store().headPosition()).toBe(headBefore);
  });
}

function readStreamCases(store: StoreAccess): void {
  it('reads a stream in revision order, from a revision and up to a count', async () => {
    const streamId = uniqueStreamId('read');
    await store().appendToStream(streamId, [event('E0'), event('E1'), event('E2')], 'no-stream');
    await store().appendToStream(streamId, [event('E3'), event('E4')], 2);

    const types = async (options?: { fromRevision?: number; maxCount?: number }) =>
      (await store().readStream(streamId, options)).map((e) => `${e.revision}:${e.type}`);
    expect(await types()).toEqual(['0:E0', '1:E1', '2:E2', '3:E3', '4:E4']);
    expect(await types({ fromRevision: 2, maxCount: 2 })).toEqual(['2:E2', '3:E3']);
    expect(await types({ fromRevision: 3 })).toEqual(['3:E3', '4:E4']);
    expect(await types({ maxCount: 1 })).toEqual(['0:E0']);
    expect(await types({ fromRevision: 5 })).toEqual([]);
  });

  it('reads an unknown stream as empty', async () => {
    expect(await store().readStream(uniqueStreamId('unknown'))).toEqual([]);
  });

  it('keeps the metadata and adds recordedAt, set by the store', async () => {
    const streamId = uniqueStreamId('metadata');
    const full = {
      actor: 'principal:alice',
      tenantId: 'tenant-7',
      correlationId: 'correlation-1',
      causationId: 'causation-1',
      idempotencyKey: 'idempotency-1',
    };
    const sparse = { actor: 'system:scheduler', tenantId: null, correlationId: 'correlation-2', causationId: null, idempotencyKey: null };
    const before = Date.now();
    await store().appendToStream(streamId, [event('Full', {}, full), event('Sparse', {}, sparse)], 'no-stream');
    const after = Date.now();

    const [first, second] = await store().readStream(streamId);
    expect(first!.metadata).toEqual({ ...full, recordedAt: expect.any(String) });
    expect(second!.metadata).toEqual({ ...sparse, recordedAt: expect.any(String) });
    const recordedAt = first!.metadata.recordedAt;
    expect(recordedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(Date.parse(recordedAt)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(recordedAt)).toBeLessThanOrEqual(after + 1);
  });

  it('keeps type, schemaVersion and data exactly, and gives each event its own id', async () => {
    const streamId = uniqueStreamId('data');
    const nested = {
      text: 'Grüße, 鍵, 🔑, שלום, e\u0301, "quoted" \\ back\\slash\nnew line',
      numbers: [0, -3, 2.5, 9007199254740991],
      flags: { yes: true, no: false, nothing: null },
      deep: { deeper: { deepest: ['x', { y: [] }] } },
      empty: {},
    };
    const versioned = { ...event('KeyRotated.v3', nested), schemaVersion: 3 };
    await store().appendToStream(streamId, [versioned, event('ListData', [1, 'two', null]), event('Empty')], 'no-stream');

    const events = await store().readStream(streamId);
    expect(events.map((e) => [e.type, e.schemaVersion, e.data])).toEqual([
      ['KeyRotated.v3', 3, nested],
      ['ListData', 1, [1, 'two', null]],
      ['Empty', 1, {}],
    ]);
    const ids = events.map((e) => e.eventId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(3);
  });
}

function globalOrderCases(store: StoreAccess): void {
  it('starts empty: head 0 and nothing to read', async () => {
    expect(await store().headPosition()).toBe(0);
    expect(await store().readAll()).toEqual([]);
  });

  it('orders events of all streams by commit, with after/maxCount paging and the head position', async () => {
    const [a, b] = [uniqueStreamId('order-a'), uniqueStreamId('order-b')];
    const base = await store().headPosition();
    const first = await store().appendToStream(a, [event('A1'), event('A2')], 'no-stream');
    const second = await store().appendToStream(b, [event('B1')], 'no-stream');
    const third = await store().appendToStream(a, [event('A3')], first.nextExpectedRevision);

    const all = await store().readAll({ after: base });
    expect(all.map((e) => e.type)).toEqual(['A1', 'A2', 'B1', 'A3']);
    expect(all.map((e) => e.position)).toEqual([...all.map((e) => e.position)].sort((x, y) => x - y));
    expect(new Set(all.map((e) => e.position)).size).toBe(4);
    expect([all[1]!.position, all[2]!.position, all[3]!.position]).toEqual([
      first.lastPosition,
      second.lastPosition,
      third.lastPosition,
    ]);
    expect(await store().headPosition()).toBe(third.lastPosition);
    expect(all[3]).toEqual((await store().readStream(a, { fromRevision: 2 }))[0]);

    const page = await store().readAll({ after: all[0]!.position, maxCount: 2 });
    expect(page.map((e) => e.type)).toEqual(['A2', 'B1']);
    expect(await store().readAll({ after: third.lastPosition })).toEqual([]);
  });
}

function concurrencyCases(store: StoreAccess, densePositions: boolean): void {
  const contenders = 20;

  it('lets exactly one of many appends with the same expected revision win', async () => {
    const streamId = uniqueStreamId('contended');
    await store().appendToStream(streamId, [event('Opened')], 'no-stream');

    const attempts = await Promise.allSettled(
      range(contenders).map((attempt) => store().appendToStream(streamId, [event('Changed', { attempt })], 0)),
    );

    const winners = attempts.flatMap((outcome, attempt) => (outcome.status === 'fulfilled' ? [attempt] : []));
    const losers = attempts.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
    expect(winners).toHaveLength(1);
    for (const loser of losers) {
      expect(loser).toBeInstanceOf(ConcurrencyError);
      expect(loser).toMatchObject({ streamId, expected: 0, actual: 1 });
    }
    const events = await store().readStream(streamId);
    expect(events.map((e) => [e.revision, e.data])).toEqual([
      [0, {}],
      [1, { attempt: winners[0] }],
    ]);
  });

  it("lets exactly one of many 'no-stream' appends create the stream", async () => {
    const streamId = uniqueStreamId('created-once');
    const attempts = await Promise.allSettled(
      range(contenders).map((attempt) => store().appendToStream(streamId, [event('Opened', { attempt })], 'no-stream')),
    );

    expect(attempts.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of attempts.filter((o) => o.status === 'rejected')) {
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
    }
    expect(await store().readStream(streamId)).toHaveLength(1);
  });

  it(`appends to different streams at once, each event at its own position${densePositions ? ' with no gaps' : ', increasing'}`, async () => {
    const base = await store().headPosition();
    const results = await Promise.all(
      range(contenders).map((index) =>
        store().appendToStream(uniqueStreamId(`parallel-${index}`), [event('One'), event('Two')], 'no-stream'),
      ),
    );

    expect(results.every((result) => result.nextExpectedRevision === 1)).toBe(true);
    const all = await store().readAll({ after: base });
    const positions = all.map((e) => e.position);
    if (densePositions) expect(positions).toEqual(range(contenders * 2).map((offset) => base + 1 + offset));
    else expect(positions).toEqual([...new Set(positions)].sort((a, b) => a - b));
    expect(positions).toHaveLength(contenders * 2);
    expect(new Set(results.map((result) => result.lastPosition)).size).toBe(contenders);
  });
}

function subscriptionCases({ store, options }: SuiteContext): void {
  const collect = (received: RecordedEvent[]) => async (recorded: RecordedEvent) => {
    received.push(recorded);
    await sleep(2); // a slow handler: delivery must wait for it, not overlap it
  };

  it('replays from a position, then delivers new events in order, once each, until closed', async () => {
    const streamId = uniqueStreamId('catch-up');
    await store().appendToStream(streamId, [event('E0'), event('E1'), event('E2')], 'no-stream');
    const [from] = await store().readStream(streamId);

    const received: RecordedEvent[] = [];
    const subscription = store().subscribeToAll({ after: from!.position, onEvent: collect(received) });
    await store().appendToStream(streamId, [event('E3')], 2); // may land while still catching up
    await waitUntil(() => received.length >= 3, 'the historical events and the first new one');
    await store().appendToStream(streamId, [event('E4'), event('E5')], 3);
    await waitUntil(() => received.length >= 5, 'the next new events');

    await subscription.close();
    await store().appendToStream(streamId, [event('AfterClose')], 5);
    await sleep(options.quietPeriodMs);

    expect(received.map((e) => e.type)).toEqual(['E1', 'E2', 'E3', 'E4', 'E5']);
    const positions = received.map((e) => e.position);
    expect(positions).toEqual([...new Set(positions)].sort((x, y) => x - y));
    expect(received).toEqual((await store().readAll({ after: from!.position, maxCount: 5 })));
  });

  it('delivers only events committed after the head it started from', async () => {
    await store().appendToStream(uniqueStreamId('history'), [event('Old1'), event('Old2')], 'no-stream');
    const head = await store().headPosition();

    const received: RecordedEvent[] = [];
    const subscription = store().subscribeToAll({ after: head, onEvent: collect(received) });
    try {
      await store().appendToStream(uniqueStreamId('live'), [event('New')], 'no-stream');
      await waitUntil(() => received.length >= 1, 'the new event');
      await sleep(options.quietPeriodMs);
      expect(received.map((e) => e.type)).toEqual(['New']);
      expect(received[0]!.position).toBeGreaterThan(head);
    } finally {
      await subscription.close();
    }
  });

  it('stops at once when closed from inside a handler', async () => {
    const head = await store().headPosition();
    const received: string[] = [];
    let closeReturned = false;
    const subscription: { close(): Promise<void> } = store().subscribeToAll({
      after: head,
      onEvent: async (recorded) => {
        received.push(recorded.type);
        await subscription.close(); // must not wait for this very handler to finish: that would deadlock
        closeReturned = true;
      },
    });
    await store().appendToStream(uniqueStreamId('closing'), [event('First'), event('Second'), event('Third')], 'no-stream');
    await waitUntil(() => closeReturned, 'close() called inside the handler to return');
    await sleep(options.quietPeriodMs);

    expect(received).toEqual(['First']);
  });

  it('stops and reports the error when a handler rejects', async () => {
    const head = await store().headPosition();
    const failure = new Error('projection failed');
    const received: string[] = [];
    const errors: Error[] = [];
    const subscription = store().subscribeToAll({
      after: head,
      onEvent: async (recorded) => {
        received.push(recorded.type);
        if (recorded.type === 'Poison') throw failure;
      },
      onError: (error) => errors.push(error),
    });
    try {
      await store().appendToStream(uniqueStreamId('poison'), [event('Fine'), event('Poison'), event('Never')], 'no-stream');
      await waitUntil(() => errors.length > 0, 'the handler error');
      await sleep(options.quietPeriodMs);
      expect(errors).toEqual([failure]);
      expect(received).toEqual(['Fine', 'Poison']);
    } finally {
      await subscription.close();
    }
  });
}

function restartCases({ store, fixture, options }: SuiteContext): void {
  const durableIt = options.durable ? it : it.skip;

  durableIt('keeps every acknowledged event across close and reopen', async () => {
    const { reopen } = fixture();
    if (!reopen) throw new Error('A durable store fixture must provide reopen()');
    const [a, b] = [uniqueStreamId('durable-a'), uniqueStreamId('durable-b')];
    await store().appendToStream(a, [event('A0', { n: 0 }), event('A1', { n: 1 })], 'no-stream');
    await store().appendToStream(b, [event('B0', { text: 'ключ' })], 'no-stream');
    const last = await store().appendToStream(a, [event('A2')], 1);
    const before = await store().readAll();
    await store().close();

    const reopened = await reopen();
    try {
      expect(await reopened.readAll()).toEqual(before);
      expect(await reopened.headPosition()).toBe(last.lastPosition);
      const next = await reopened.appendToStream(a, [event('A3')], last.nextExpectedRevision);
      expect(next.lastPosition).toBeGreaterThan(last.lastPosition);
    } finally {
      await reopened.close();
    }
  });
}
