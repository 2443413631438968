import { ANY, NO_STREAM, STREAM_EXISTS, StreamNotFoundError, WrongExpectedVersionError, type RecordedEvent as EsdbRecordedEvent } from '@eventstore/db-client';
import { ConcurrencyError } from '@keyledger/event-store';
import { testEvent } from '../../event-store/src/contract-helpers.js';
import {
  DEFAULT_STREAM_PREFIX,
  fromEsdbCurrentRevision,
  fromPortPosition,
  StreamNames,
  toEsdbExpectedRevision,
  toEventData,
  toPortError,
  toPortPosition,
  toRecordedEvent,
} from './esdb-mapping.js';
import { StoreTimeoutError, withTimeout } from './with-timeout.js';

describe('EventStoreDB mapping', () => {
  describe('stream names', () => {
    it('prefixes our streams and recognises only prefixed ones as ours', () => {
      const names = new StreamNames();
      expect(DEFAULT_STREAM_PREFIX).toBe('keyledger-');
      expect(names.toEsdb('key-42')).toBe('keyledger-key-42');
      expect(names.fromEsdb('keyledger-key-42')).toBe('key-42');
      expect(names.fromEsdb('$stats-127.0.0.1:2113')).toBeNull();
      expect(names.fromEsdb('billing-key-42')).toBeNull();
    });

    it.each(['', '$keyledger-'])('refuses the prefix %j, which would take in system streams', (prefix) => {
      expect(() => new StreamNames(prefix)).toThrow(RangeError);
    });
  });

  describe('expected revision', () => {
    it.each([
      ['no-stream', NO_STREAM],
      ['any', ANY],
      ['stream-exists', STREAM_EXISTS],
      [0, 0n],
      [41, 41n],
    ] as const)('maps %j to %j', (ours, theirs) => {
      expect(toEsdbExpectedRevision(ours)).toBe(theirs);
    });

    it.each([-1, 1.5, Number.NaN])('refuses %p, which is no revision', (revision) => {
      expect(() => toEsdbExpectedRevision(revision)).toThrow(RangeError);
    });

    it('reads a current revision back as a number, or no-stream', () => {
      expect(fromEsdbCurrentRevision(7n)).toBe(7);
      expect(fromEsdbCurrentRevision(NO_STREAM)).toBe('no-stream');
      expect(fromEsdbCurrentRevision(undefined)).toBe('no-stream');
    });
  });

  describe('errors', () => {
    it('turns WrongExpectedVersionError into ConcurrencyError with our stream id and revisions', () => {
      const wrong = new WrongExpectedVersionError(undefined, { streamName: 'keyledger-key-1', expected: 3n, current: 5n });

      const mapped = toPortError(wrong, 'key-1', 3);

      expect(mapped).toBeInstanceOf(ConcurrencyError);
      expect(mapped).toMatchObject({ code: 'CONCURRENCY.CONFLICT', streamId: 'key-1', expected: 3, actual: 5 });
    });

    it('reports a stream that does not exist as actual no-stream', () => {
      const wrong = new WrongExpectedVersionError(undefined, { streamName: 'keyledger-key-2', expected: STREAM_EXISTS, current: NO_STREAM });

      expect(toPortError(wrong, 'key-2', 'stream-exists')).toMatchObject({ expected: 'stream-exists', actual: 'no-stream' });
    });

    it('recognises the error by its type, whichever copy of the client module made it', () => {
      const shaped = { type: 'wrong-expected-version', actualVersion: 2n, message: 'Wrong expected version' };

      expect(toPortError(shaped, 'key-3', 1)).toMatchObject({ streamId: 'key-3', expected: 1, actual: 2 });
    });

    it('passes every other error through unchanged', () => {
      const unavailable = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 });
      const notFound = new StreamNotFoundError(undefined, 'keyledger-x');
      const timeout = new StoreTimeoutError('append to x', 10);

      for (const error of [unavailable, notFound, timeout]) expect(toPortError(error, 'x', 0)).toBe(error);
    });
  });

  describe('positions', () => {
    it('uses the log position of the event, which must fit a JS number', () => {
      expect(toPortPosition({ commit: 8_192n, prepare: 8_192n })).toBe(8_192);
      expect(() => toPortPosition({ commit: 2n ** 53n, prepare: 2n ** 53n })).toThrow(RangeError);
      expect(() => toPortPosition(undefined)).toThrow(/22\.6/);
    });

    it('turns our position back into the place a read of $all starts from', () => {
      expect(fromPortPosition(8_192)).toEqual({ commit: 8_192n, prepare: 8_192n });
    });
  });

  describe('events', () => {
    const metadata = { actor: 'principal:alice', tenantId: 't-1', correlationId: 'c-1', causationId: null, idempotencyKey: 'i-1' };

    it('writes JSON data and our metadata with the schema version, under a fresh uuid', () => {
      const data = toEventData({ ...testEvent('KeyRotated', { keyId: 'k' }, metadata), schemaVersion: 2 });

      expect(data).toMatchObject({ contentType: 'application/json', type: 'KeyRotated', data: { keyId: 'k' } });
      expect(data.metadata).toEqual({ ...metadata, schemaVersion: 2 });
      expect(data.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(toEventData(testEvent('Same')).id).not.toBe(toEventData(testEvent('Same')).id);
    });

    it('refuses data that is not JSON before anything is sent', () => {
      expect(() => toEventData(testEvent('Fn', () => 1))).toThrow(TypeError);
    });

    it('reads an event back into the port shape, recordedAt from the server time', () => {
      const created = new Date('2026-03-04T05:06:07.089Z');
      const stored = {
        streamId: 'keyledger-key-9',
        id: '3f0c4b1e-8d4c-4f44-9a0e-1e2f3a4b5c6d',
        isJson: true,
        revision: 4n,
        type: 'KeyActivated',
        created,
        data: { keyId: 'key-9' },
        metadata: { ...metadata, schemaVersion: 1 },
        position: { commit: 123_456n, prepare: 123_456n },
      } as EsdbRecordedEvent;

      expect(toRecordedEvent(stored, 'key-9')).toEqual({
        eventId: stored.id,
        streamId: 'key-9',
        revision: 4,
        position: 123_456,
        type: 'KeyActivated',
        schemaVersion: 1,
        data: { keyId: 'key-9' },
        metadata: { ...metadata, recordedAt: '2026-03-04T05:06:07.089Z' },
      });
    });
  });

  describe('withTimeout', () => {
    it('rejects with StoreTimeoutError when the call never settles, and runs the cancel hook', async () => {
      let cancelled = false;
      const never = new Promise<never>(() => undefined);

      await expect(withTimeout(never, 20, 'append to k', () => (cancelled = true))).rejects.toEqual(new StoreTimeoutError('append to k', 20));
      expect(cancelled).toBe(true);
    });

    it('settles with the call when it answers in time, and leaves no timer behind', async () => {
      await expect(withTimeout(Promise.resolve('done'), 1_000, 'read')).resolves.toBe('done');
      await expect(withTimeout(Promise.reject(new Error('refused')), 1_000, 'read')).rejects.toThrow('refused');
    });
  });
});
