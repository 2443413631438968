import type { RecordedEvent } from '@keyledger/event-store';
import type { ProjectionName, ProjectionWrites, ReadModelStorage } from '../storage/port.js';

/**
 * A projection turns a batch of events (in log order, all after its checkpoint) into the writes of
 * one commit. It loads what its pure `evolve` functions need from the storage, folds the batch in
 * memory, and returns the result; the runner commits it together with the new checkpoint.
 * Events it has no use for are simply not folded: the checkpoint still moves past them.
 */
export interface Projection {
  readonly name: ProjectionName;
  project(events: readonly RecordedEvent[], storage: ReadModelStorage): Promise<ProjectionWrites>;
}
