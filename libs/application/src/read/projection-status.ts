import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { ProjectionStatus } from '@keyledger/read-models';
import { ReadSideService } from './read-side.service.js';

export class ProjectionStatusQuery {}

/** Position, lag and state of each projection (what `keyledger projections status` prints). */
@QueryHandler(ProjectionStatusQuery)
export class ProjectionStatusHandler implements IQueryHandler<ProjectionStatusQuery, { items: ProjectionStatus[] }> {
  constructor(private readonly readSide: ReadSideService) {}

  async execute(): Promise<{ items: ProjectionStatus[] }> {
    return { items: await this.readSide.status() };
  }
}
