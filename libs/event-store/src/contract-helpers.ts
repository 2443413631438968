import { randomUUID } from 'node:crypto';
import { expect } from '@jest/globals';
import { ConcurrencyError, type EventMetadata, type ExpectedRevision, type NewEvent, type StreamRevision } from './index.js';

/** Helpers for the contract suites; they use jest's expect, so only spec code may import them. */

/** Every test writes to its own streams, so a contract run never depends on what others wrote. */
export function uniqueStreamId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

export function testEvent(type: string, data: unknown = {}, metadata: Partial<EventMetadata> = {}): NewEvent {
  return {
    type,
    schemaVersion: 1,
    data,
    metadata: {
      actor: 'principal:contract',
      tenantId: null,
      correlationId: randomUUID(),
      causationId: null,
      idempotencyKey: null,
      ...metadata,
    },
  };
}

export function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export async function expectConcurrencyError(
  attempt: Promise<unknown>,
  details: { streamId: string; expected: ExpectedRevision; actual: StreamRevision },
): Promise<void> {
  const outcome = await attempt.then(
    () => 'appended',
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(ConcurrencyError);
  expect(outcome).toMatchObject({ code: 'CONCURRENCY.CONFLICT', ...details });
}
