import type { EventStore } from '@keyledger/event-store';
import { CheckpointMovedError, type ProjectionName, type ReadModelStorage } from '../storage/port.js';
import { applyBatch } from './apply-batch.js';
import { PROJECTIONS } from './projections.js';

export interface RebuildProgress {
  /** Events read from the log so far. */
  readonly events: number;
  /** Position reached, and the head when the rebuild started (the progress bar's total). */
  readonly position: number;
  readonly head: number;
}

export interface RebuildResult {
  readonly projections: readonly ProjectionName[];
  readonly events: number;
  readonly position: number;
  readonly seconds: number;
}

export interface RebuildOptions {
  /** Events per read and per transaction. */
  readonly batchSize?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
}

/**
 * Rebuilds projections from zero: resets them, then reads the whole log once, page by page, and
 * applies each page to each projection through the same `applyBatch` the live runner uses, so a
 * rebuild gives exactly what incremental updates give. A running server's runner may take part
 * (each commit is a compare-and-set on the checkpoint): pages it already applied are skipped.
 */
export async function rebuildProjections(
  store: EventStore,
  storage: ReadModelStorage,
  projections: readonly ProjectionName[],
  options: RebuildOptions = {},
): Promise<RebuildResult> {
  const started = process.hrtime.bigint();
  const batchSize = options.batchSize ?? 5_000;
  for (const name of projections) await storage.reset(name);
  const positions = new Map<ProjectionName, number>(projections.map((name) => [name, 0]));
  const head = await store.headPosition();
  let after = 0;
  let events = 0;
  for (;;) {
    const page = await store.readAll({ after, maxCount: batchSize });
    if (page.length === 0) break;
    for (const name of projections) positions.set(name, await applyPage(storage, name, page, positions.get(name)!));
    after = page[page.length - 1]!.position;
    events += page.length;
    options.onProgress?.({ events, position: after, head });
    if (page.length < batchSize) break;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { projections, events, position: after, seconds };
}

async function applyPage(storage: ReadModelStorage, name: ProjectionName, page: Parameters<typeof applyBatch>[2], position: number): Promise<number> {
  let from = position;
  for (;;) {
    const pending = page.filter((event) => event.position > from);
    if (pending.length === 0) return from;
    try {
      return (await applyBatch(PROJECTIONS[name], storage, pending, from)).position;
    } catch (error) {
      if (!(error instanceof CheckpointMovedError)) throw error;
      // Another runner applied some of these events already: continue after them. Moving back
      // means someone reset the projection again, and this rebuild is no longer the one to finish.
      if (error.actual < from) throw new Error(`Projection ${name} was reset by another process during the rebuild`);
      from = error.actual;
    }
  }
}
