import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { range } from './contract-helpers.js';
import type { IdempotencyStore } from './index.js';

/** The IdempotencyStore contract, run by every adapter of that port (spec code only: it calls jest). */
export interface IdempotencyFixture {
  readonly store: IdempotencyStore;
  readonly cleanup: () => Promise<void>;
}

const createdAt = '2026-01-02T03:04:05.000Z';

export function idempotencyContract(name: string, makeStore: () => Promise<IdempotencyFixture>): void {
  describe(`${name} honours the IdempotencyStore contract`, () => {
    let fixture: IdempotencyFixture | undefined;
    beforeEach(async () => {
      fixture = await makeStore();
    });
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });
    const store = (): IdempotencyStore => {
      if (!fixture) throw new Error('makeStore did not run');
      return fixture.store;
    };
    // Fresh scope and key per test: the cases hold even on a store shared between tests.
    const scope = () => `scope-${randomUUID()}`;
    const key = () => `key-${randomUUID()}`;

    it('reserves an unknown key once and records it as pending', async () => {
      const [s, k] = [scope(), key()];
      expect(await store().get(s, k)).toBeNull();

      expect(await store().reserve(s, k, 'hash-1', createdAt)).toEqual({ outcome: 'reserved' });
      expect(await store().get(s, k)).toEqual({
        scope: s,
        key: k,
        requestHash: 'hash-1',
        state: 'pending',
        statusCode: null,
        responseBody: null,
        createdAt,
      });
    });

    it('answers a second reservation with the existing pending record', async () => {
      const [s, k] = [scope(), key()];
      await store().reserve(s, k, 'hash-1', createdAt);

      const second = await store().reserve(s, k, 'hash-2', '2026-01-02T03:04:06.000Z');
      expect(second).toEqual({ outcome: 'exists', record: await store().get(s, k) });
      expect(second).toMatchObject({ record: { state: 'pending', requestHash: 'hash-1', createdAt } });
    });

    it('keeps the completed response for later reservations', async () => {
      const [s, k] = [scope(), key()];
      await store().reserve(s, k, 'hash-1', createdAt);
      await store().complete(s, k, 201, '{"id":"key-1","name":"Grüße 🔑"}');

      expect(await store().reserve(s, k, 'hash-1', createdAt)).toEqual({
        outcome: 'exists',
        record: {
          scope: s,
          key: k,
          requestHash: 'hash-1',
          state: 'completed',
          statusCode: 201,
          responseBody: '{"id":"key-1","name":"Grüße 🔑"}',
          createdAt,
        },
      });
    });

    it('lets a released reservation be reserved again', async () => {
      const [s, k] = [scope(), key()];
      await store().reserve(s, k, 'hash-1', createdAt);
      await store().release(s, k);

      expect(await store().get(s, k)).toBeNull();
      expect(await store().reserve(s, k, 'hash-2', createdAt)).toEqual({ outcome: 'reserved' });
      expect(await store().get(s, k)).toMatchObject({ requestHash: 'hash-2', state: 'pending' });
    });

    it('does not release a completed record', async () => {
      const [s, k] = [scope(), key()];
      await store().reserve(s, k, 'hash-1', createdAt);
      await store().complete(s, k, 200, '{}');
      await store().release(s, k);

      expect(await store().get(s, k)).toMatchObject({ state: 'completed', statusCode: 200 });
    });

    it('keeps scopes independent', async () => {
      const [first, second, k] = [scope(), scope(), key()];
      expect(await store().reserve(first, k, 'hash-1', createdAt)).toEqual({ outcome: 'reserved' });
      expect(await store().reserve(second, k, 'hash-1', createdAt)).toEqual({ outcome: 'reserved' });

      await store().complete(first, k, 200, 'first');
      expect(await store().get(second, k)).toMatchObject({ state: 'pending', responseBody: null });
    });

    it('gives exactly one of many concurrent reservations the key', async () => {
      const [s, k] = [scope(), key()];
      const outcomes = await Promise.all(range(20).map((attempt) => store().reserve(s, k, `hash-${attempt}`, createdAt)));

      const reserved = outcomes.flatMap((outcome, attempt) => (outcome.outcome === 'reserved' ? [attempt] : []));
      expect(reserved).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome.outcome === 'exists')).toHaveLength(19);
      expect(await store().get(s, k)).toMatchObject({ requestHash: `hash-${reserved[0]}`, state: 'pending' });
    });
  });
}
