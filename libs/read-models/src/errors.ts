import type { ProjectionFailure, ProjectionName } from './storage/port.js';

/**
 * Errors of the read side, with stable codes and no HTTP in them. A query that must reflect every
 * acknowledged command waits for the projections; these say why it could not.
 */
export type ReadModelErrorCode = 'READ_MODEL.CATCHING_UP' | 'READ_MODEL.PROJECTION_FAILED';

export abstract class ReadModelError extends Error {
  abstract readonly code: ReadModelErrorCode;
  constructor(
    message: string,
    readonly details: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The projection is still behind the log's head after the wait allowed (a long rebuild, say). */
export class ReadModelCatchingUpError extends ReadModelError {
  readonly code = 'READ_MODEL.CATCHING_UP' as const;
  constructor(projection: ProjectionName, position: number, head: number) {
    super(`The ${projection} read model is at position ${position} of ${head}; retry shortly`, { projection, position, head });
  }
}

/** The projection stopped on an event it could not apply; `projections status` shows which. */
export class ProjectionFailedError extends ReadModelError {
  readonly code = 'READ_MODEL.PROJECTION_FAILED' as const;
  constructor(projection: ProjectionName, failure: ProjectionFailure | null) {
    super(
      `The ${projection} projection stopped${failure ? ` at position ${failure.position}: ${failure.message}` : ''}`,
      { projection, position: failure?.position ?? null },
    );
  }
}
