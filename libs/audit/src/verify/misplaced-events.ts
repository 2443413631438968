import type { RecordedEvent } from '@keyledger/event-store';
import { canonicalEvent, eventLeafHash } from '../sealed-event.js';
import { describeEvent, type Failure } from './failures.js';

const KEPT = 200;

/**
 * Tells moved events from altered ones. An event is sealed with its position, so an event moved
 * elsewhere no longer matches anywhere; put back at its old position, it matches again. Once the
 * whole log was read, each suspect stored event is tried at each sealed position that failed.
 * Bounded (200 of each), so a wholesale rewrite of the log stays cheap to report.
 */
export class MisplacedEvents {
  private readonly sealed = new Map<number, { hash: Buffer; failureIndex: number | null }>();
  private readonly stored: { event: RecordedEvent; failureIndex: number | null }[] = [];

  /** The sealed hash of a position whose stored event is missing or different. */
  sealedAt(position: number, hash: Buffer, failureIndex: number | null): void {
    if (this.sealed.size < KEPT) this.sealed.set(position, { hash, failureIndex });
  }

  /**
   * A stored event that matched nothing at its own position; `failureIndex` null for one after
   * the last checkpoint, which may be a sealed event pushed beyond it.
   */
  storedAt(event: RecordedEvent, failureIndex: number | null): void {
    if (this.stored.length < KEPT) this.stored.push({ event, failureIndex });
  }

  /** True once some sealed position failed: only then can an event have moved. */
  get anySealedFailed(): boolean {
    return this.sealed.size > 0;
  }

  reclassify(failures: readonly Failure[]): Failure[] {
    const rewritten = [...failures];
    const movedPastTheSeal: Failure[] = [];
    const foundElsewhere = new Map<number, number>();
    const explained = new Set<number>();
    for (const { event, failureIndex } of this.stored) {
      const sealedAt = this.originalPosition(event);
      if (sealedAt === null) continue;
      foundElsewhere.set(sealedAt, event.position);
      if (failureIndex === null) movedPastTheSeal.push(moved(event, sealedAt));
      else rewritten[failureIndex] = moved(event, sealedAt);
      const displaced = this.sealed.get(sealedAt)!.failureIndex;
      if (displaced !== null && failures[displaced]?.kind === 'event-deleted' && (failures[displaced]!.count ?? 1) === 1) explained.add(displaced);
    }
    rewritten.forEach((failure, index) => {
      const movedTo = failure.position === undefined ? undefined : foundElsewhere.get(failure.position);
      if (failure.kind === 'event-modified' && movedTo !== undefined) rewritten[index] = pushedAside(failure, movedTo);
    });
    return [...rewritten.filter((_, index) => !explained.has(index)), ...movedPastTheSeal];
  }

  private originalPosition(event: RecordedEvent): number | null {
    const content = canonicalEvent(event);
    for (const [position, { hash }] of this.sealed) {
      if (position !== event.position && eventLeafHash({ ...content, position }).equals(hash)) return position;
    }
    return null;
  }
}

function moved(event: RecordedEvent, sealedAt: number): Failure {
  return {
    kind: 'event-moved',
    position: event.position,
    sealedAtPosition: sealedAt,
    eventId: event.eventId,
    streamId: event.streamId,
    type: event.type,
    message: `${describeEvent(event.position, event)} was moved: it was sealed at position ${sealedAt}`,
  };
}

/** A position whose sealed event now sits elsewhere, holding an event that matches nothing: inserted there. */
function pushedAside(failure: Failure, movedTo: number): Failure {
  const { position } = failure;
  const event = failure.eventId && failure.streamId && failure.type ? { eventId: failure.eventId, streamId: failure.streamId, type: failure.type } : undefined;
  return {
    ...failure,
    kind: 'event-inserted',
    message: `${describeEvent(position!, event)} was inserted: the event sealed at this position is now at position ${movedTo}`,
  };
}
