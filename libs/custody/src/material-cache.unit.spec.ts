import { Buffer } from 'node:buffer';
import { MaterialCache } from './material-cache.js';

describe('MaterialCache', () => {
  let now: number;
  const options = { ttlMs: 1000, maxUses: 3, maxEntries: 2 };
  const cache = (overrides = {}) => new MaterialCache({ ...options, ...overrides }, () => now);
  const key = (byte: number) => Buffer.alloc(32, byte);
  const zeroed = (buffer: Buffer) => buffer.every((b) => b === 0);

  beforeEach(() => {
    now = 0;
  });

  it('serves a cached key within its time and uses, and zeroes it when its uses run out', () => {
    const c = cache();
    const k = key(7);
    c.put('a', k);

    const seen = [1, 2, 3].map(() => c.use('a', (material) => material[0]));

    expect(seen).toEqual([{ hit: true, value: 7 }, { hit: true, value: 7 }, { hit: true, value: 7 }]);
    expect(zeroed(k)).toBe(true);
    expect(c.use('a', () => 0)).toEqual({ hit: false });
  });

  it('zeroes and misses a key past its time', () => {
    const c = cache();
    const k = key(9);
    c.put('a', k);
    now = 1000;

    expect(c.use('a', () => 1)).toEqual({ hit: false });
    expect(zeroed(k)).toBe(true);
  });

  it('evicts (and zeroes) the oldest key when full', () => {
    const c = cache();
    const [a, b, d] = [key(1), key(2), key(3)];
    c.put('a', a);
    c.put('b', b);
    c.put('d', d);

    expect(zeroed(a)).toBe(true);
    expect(c.size).toBe(2);
    expect(c.use('b', (m) => m[0])).toEqual({ hit: true, value: 2 });
  });

  it('zeroes everything on clear and on close', () => {
    const c = cache();
    const [a, b] = [key(1), key(2)];
    c.put('a', a);
    c.put('b', b);
    c.clear();
    expect(zeroed(a) && zeroed(b)).toBe(true);
    const e = key(5);
    c.put('e', e);
    c.close();
    expect(zeroed(e)).toBe(true);
  });

  it('keeps nothing when disabled: the key is zeroed at once', () => {
    const c = cache({ ttlMs: 0 });
    const k = key(4);
    c.put('a', k);
    expect(zeroed(k)).toBe(true);
    expect(c.use('a', () => 1)).toEqual({ hit: false });
  });
});
