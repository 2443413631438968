import type { Buffer } from 'node:buffer';

/** How long, and for how many uses, an unwrapped DEK may stay in memory. */
export interface MaterialCacheOptions {
  /** 0 disables the cache: every use unwraps again. */
  readonly ttlMs: number;
  readonly maxUses: number;
  readonly maxEntries: number;
}

export const NO_MATERIAL_CACHE: MaterialCacheOptions = Object.freeze({ ttlMs: 0, maxUses: 0, maxEntries: 0 });

interface Entry {
  readonly key: Buffer;
  readonly expiresAt: number;
  usesLeft: number;
}

/**
 * Unwrapped DEKs kept briefly, so that a burst of uses of one DEK does not unwrap it through the
 * HSM or KMS each time. Bounded in time, uses and size; every evicted key is zeroed. Only
 * synchronous work may run on a cached key (`use`), so an eviction can never zero a key that a
 * caller is still reading.
 */
export class MaterialCache {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout | null;

  constructor(
    private readonly options: MaterialCacheOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = options.ttlMs > 0 ? setInterval(() => this.sweep(), Math.max(options.ttlMs, 250)) : null;
    this.sweeper?.unref();
  }

  get enabled(): boolean {
    return this.options.ttlMs > 0 && this.options.maxUses > 0 && this.options.maxEntries > 0;
  }

  /** Runs `work` on the cached key of `ref`, counting one use; `miss` when it is not cached. */
  use<T>(ref: string, work: (key: Buffer) => T): { hit: true; value: T } | { hit: false } {
    const entry = this.entries.get(ref);
    if (entry === undefined) return { hit: false };
    if (entry.expiresAt <= this.now() || entry.usesLeft <= 0) {
      this.evict(ref);
      return { hit: false };
    }
    entry.usesLeft -= 1;
    const value = work(entry.key);
    if (entry.usesLeft <= 0) this.evict(ref);
    return { hit: true, value };
  }

  /** Keeps `key` (the cache owns it from now on and zeroes it on eviction); zeroes it at once when disabled. */
  put(ref: string, key: Buffer): void {
    if (!this.enabled) {
      key.fill(0);
      return;
    }
    this.evict(ref);
    if (this.entries.size >= this.options.maxEntries) this.evictOldest();
    this.entries.set(ref, { key, expiresAt: this.now() + this.options.ttlMs, usesLeft: this.options.maxUses });
  }

  evict(ref: string): void {
    const entry = this.entries.get(ref);
    if (entry === undefined) return;
    entry.key.fill(0);
    this.entries.delete(ref);
  }

  /** Zeroes every key: after destroying or rewrapping a wrapping key, its children must unwrap again. */
  clear(): void {
    for (const ref of [...this.entries.keys()]) this.evict(ref);
  }

  get size(): number {
    return this.entries.size;
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.clear();
  }

  private sweep(): void {
    const now = this.now();
    for (const [ref, entry] of [...this.entries]) if (entry.expiresAt <= now) this.evict(ref);
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.evict(oldest.value);
  }
}
