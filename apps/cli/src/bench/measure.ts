/** Small timing helpers for the bench: throughput of a bounded loop, and latency percentiles. */
export interface Throughput {
  readonly operations: number;
  readonly seconds: number;
  readonly perSecond: number;
}

export const throughput = (operations: number, startedNs: bigint): Throughput => {
  const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
  return { operations, seconds, perSecond: operations / seconds };
};

/** Runs `work` with `concurrency` workers until `total` operations are done. */
export const runConcurrently = async (total: number, concurrency: number, work: (i: number) => Promise<void>): Promise<Throughput> => {
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    for (let i = next++; i < total; i = next++) await work(i);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return throughput(total, started);
};

export const percentile = (sortedMs: number[], p: number): number =>
  sortedMs.length === 0 ? Number.NaN : sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))]!;

export const timeMs = async <T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const started = process.hrtime.bigint();
  const value = await work();
  return { value, ms: Number(process.hrtime.bigint() - started) / 1e6 };
};
