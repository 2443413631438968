import express, { type NextFunction, type Request, type Response } from 'express';
import { toProblem, HttpProblem } from './problem.js';
import { sendProblem } from './problem.filter.js';
import type { KeyledgerRequest } from './request.js';

const hasBody = (req: Request): boolean =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/**
 * JSON bodies only, strictly parsed and size-limited; anything else is refused before routing
 * with a problem answer.
 */
export const jsonBody = (limitBytes: number) => {
  const parse = express.json({ limit: limitBytes, strict: false, type: ['application/json', 'application/*+json'] });
  return (req: Request, res: Response, next: NextFunction): void => {
    if (hasBody(req) && !req.is(['application/json', 'application/*+json'])) {
      next(new HttpProblem('REQUEST.UNSUPPORTED_MEDIA_TYPE', 'Request bodies must be application/json'));
      return;
    }
    parse(req, res, next);
  };
};

/** Errors raised by the body parser (malformed JSON, too large) as problems. */
export const bodyErrors = (error: unknown, req: Request, res: Response, next: NextFunction): void => {
  if (res.headersSent) return next(error);
  const parserError = error as { type?: string; status?: number };
  const problem =
    parserError.type === 'entity.too.large'
      ? toProblem(new HttpProblem('REQUEST.TOO_LARGE', 'The request body is larger than the limit'))
      : parserError.type === 'entity.parse.failed'
        ? toProblem(new HttpProblem('REQUEST.MALFORMED_JSON', 'The request body is not valid JSON'))
        : error instanceof HttpProblem
          ? toProblem(error)
          : toProblem(new HttpProblem('REQUEST.INVALID', 'The request body could not be read'));
  sendProblem(res, problem, (req as KeyledgerRequest).correlationId);
};
