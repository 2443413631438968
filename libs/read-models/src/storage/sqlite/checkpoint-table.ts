import {
  CheckpointMovedError,
  PROJECTION_NAMES,
  type ProjectionCheckpoint,
  type ProjectionCommit,
  type ProjectionFailure,
  type ProjectionName,
} from '../port.js';
import type { ReadModelDatabase } from './sqlite-database.js';

interface CheckpointRow {
  readonly projection: ProjectionName;
  readonly position: number;
  readonly unknown_events: number;
  readonly last_unknown_position: number | null;
  readonly last_unknown_type: string | null;
  readonly failure_position: number | null;
  readonly failure_message: string | null;
  readonly failure_at: string | null;
  readonly updated_at: string | null;
}

const toCheckpoint = (row: CheckpointRow): ProjectionCheckpoint => ({
  projection: row.projection,
  position: row.position,
  unknownEvents: row.unknown_events,
  lastUnknown: row.last_unknown_position === null ? null : { position: row.last_unknown_position, type: row.last_unknown_type ?? '' },
  failure:
    row.failure_position === null ? null : { position: row.failure_position, message: row.failure_message ?? '', at: row.failure_at ?? '' },
  updatedAt: row.updated_at,
});

/** The position each projection has applied, moved only by compare-and-set inside a commit. */
export class CheckpointTable {
  private readonly selectAll;
  private readonly selectOne;
  private readonly advanceStatement;
  private readonly failureStatement;

  constructor(database: ReadModelDatabase) {
    this.selectAll = database.prepare<[], CheckpointRow>('SELECT * FROM projection_checkpoints');
    this.selectOne = database.prepare<[string], CheckpointRow>('SELECT * FROM projection_checkpoints WHERE projection = ?');
    this.advanceStatement = database.prepare(
      `UPDATE projection_checkpoints SET
         position = @position,
         unknown_events = unknown_events + @unknownCount,
         last_unknown_position = COALESCE(@lastUnknownPosition, last_unknown_position),
         last_unknown_type = COALESCE(@lastUnknownType, last_unknown_type),
         failure_position = NULL, failure_message = NULL, failure_at = NULL,
         updated_at = @updatedAt
       WHERE projection = @projection AND position = @expectedPosition`,
    );
    this.failureStatement = database.prepare(
      'UPDATE projection_checkpoints SET failure_position = ?, failure_message = ?, failure_at = ? WHERE projection = ?',
    );
  }

  all(): ProjectionCheckpoint[] {
    const rows = new Map(this.selectAll.all().map((row) => [row.projection, row]));
    return PROJECTION_NAMES.flatMap((name) => {
      const row = rows.get(name);
      return row ? [toCheckpoint(row)] : [];
    });
  }

  get(projection: ProjectionName): ProjectionCheckpoint {
    const row = this.selectOne.get(projection);
    if (!row) throw new Error(`No checkpoint for projection ${projection}`);
    return toCheckpoint(row);
  }

  /** Moves the checkpoint from `expectedPosition` to `position`, or throws CheckpointMovedError. */
  advance(projection: ProjectionName, commit: ProjectionCommit): void {
    const last = commit.unknown[commit.unknown.length - 1];
    const result = this.advanceStatement.run({
      projection,
      position: commit.position,
      expectedPosition: commit.expectedPosition,
      unknownCount: commit.unknown.length,
      lastUnknownPosition: last?.position ?? null,
      lastUnknownType: last?.type ?? null,
      updatedAt: new Date().toISOString(),
    });
    if (result.changes !== 1) throw new CheckpointMovedError(projection, commit.expectedPosition, this.get(projection).position);
  }

  recordFailure(projection: ProjectionName, failure: ProjectionFailure): void {
    this.failureStatement.run(failure.position, failure.message, failure.at, projection);
  }
}
