import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { JsonLogger } from '../observability/logger.js';
import { toProblem, type Problem } from './problem.js';
import type { KeyledgerRequest } from './request.js';

/** A stored answer replayed for an idempotent retry of a request that had failed. */
export class ReplayedProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

export const sendProblem = (res: Response, problem: Problem, correlationId?: string): void => {
  res.status(problem.status).type('application/problem+json').send(JSON.stringify({ ...problem, correlationId }));
};

/** Every error leaves as RFC 9457 problem+json; server faults are logged with their cause. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: JsonLogger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<KeyledgerRequest>();
    const res = http.getResponse<Response>();
    const problem = error instanceof ReplayedProblem ? error.problem : toProblem(error);
    if (problem.status >= 500) {
      this.logger.event('error', 'request failed', {
        correlationId: req.correlationId,
        error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
      });
    }
    if (res.headersSent) return;
    sendProblem(res, problem, req.correlationId);
  }
}
