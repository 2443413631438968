import type { RecordedEvent } from '@keyledger/event-store';
import { canonicalEventBytes, canonicalJson, canonicalEvent, CHAIN_START, nextChainHash, recordedEventLeafHash, sha256 } from '@keyledger/audit';

/** RFC 8785 canonical form (the examples of its §3.2.3 and §3.2.4) and what an event's leaf commits to. */
describe('canonical JSON (RFC 8785)', () => {
  it('serializes the values of RFC 8785 §3.2.4 as the RFC does', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], ' +
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts member names by UTF-16 code units, as RFC 8785 §3.2.3 shows', () => {
    const input = JSON.parse(
      '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", ' +
        '"\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    );
    const names = Object.keys(JSON.parse(canonicalJson(input)) as object);
    // JSON.parse puts integer-like names first; compare the order in the text instead.
    const order = [...canonicalJson(input).matchAll(/"([^"]*)":"([^"]*)"/g)].map((m) => m[2]);
    expect(names).toHaveLength(7);
    expect(order).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
  });

  it('writes -0 as 0, leaves undefined members out, and refuses what JSON cannot hold', () => {
    expect(canonicalJson({ b: -0, a: undefined, c: [undefined] })).toBe('{"b":0,"c":[null]}');
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ x: 1n })).toThrow(TypeError);
  });
});

describe('what a leaf commits to', () => {
  const event: RecordedEvent = {
    position: 7,
    eventId: 'e-7',
    streamId: 'key-k1',
    revision: 2,
    type: 'KeyRotated',
    schemaVersion: 1,
    data: { version: 3, keyId: 'k1' },
    metadata: { actor: 'p-1', tenantId: 't', correlationId: 'c', causationId: null, idempotencyKey: null, recordedAt: '2026-01-01T00:00:00.000Z' },
  };

  it('is the RFC 8785 form of every field of the event, whatever the key order', () => {
    expect(canonicalEventBytes(canonicalEvent(event)).toString()).toBe(
      '{"data":{"keyId":"k1","version":3},"eventId":"e-7","metadata":{"actor":"p-1","causationId":null,"correlationId":"c",' +
        '"idempotencyKey":null,"recordedAt":"2026-01-01T00:00:00.000Z","tenantId":"t"},"position":7,"revision":2,' +
        '"schemaVersion":1,"streamId":"key-k1","type":"KeyRotated"}',
    );
    // The vector of docs/audit-bundle.md §9, computed there with sha256sum alone.
    expect(recordedEventLeafHash(event).toString('hex')).toBe('845a0a2c43f6c4562154a50582bdcd03895b28ce10bf2082810a460ac522db53');
    expect(nextChainHash(CHAIN_START, recordedEventLeafHash(event)).toString('hex')).toBe('fbae10a39402032bdd376fb28285c669dadd1bc4c52994c8c2c3a521b0250882');
    const reordered = { ...event, data: { keyId: 'k1', version: 3 } };
    expect(recordedEventLeafHash(reordered)).toEqual(recordedEventLeafHash(event));
  });

  it('changes with any field, the position and the recording time included', () => {
    const base = recordedEventLeafHash(event).toString('hex');
    const variants: RecordedEvent[] = [
      { ...event, position: 8 },
      { ...event, revision: 3 },
      { ...event, type: 'KeyRevoked' },
      { ...event, data: { version: 4, keyId: 'k1' } },
      { ...event, metadata: { ...event.metadata, actor: 'p-2' } },
      { ...event, metadata: { ...event.metadata, recordedAt: '2026-01-01T00:00:00.001Z' } },
    ];
    for (const variant of variants) expect(recordedEventLeafHash(variant).toString('hex')).not.toBe(base);
  });

  it('ignores fields a store may add beyond the port', () => {
    const extra = { ...event, storeInternal: 42, metadata: { ...event.metadata, storeOwn: 'x' } } as RecordedEvent;
    expect(recordedEventLeafHash(extra)).toEqual(recordedEventLeafHash(event));
  });

  it('chains each leaf to the one before: SHA-256(0x02 || previous || leaf)', () => {
    const leaf = recordedEventLeafHash(event);
    expect(nextChainHash(CHAIN_START, leaf)).toEqual(sha256(Buffer.from([2]), Buffer.alloc(32), leaf));
  });
});
