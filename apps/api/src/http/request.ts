import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Actor, RequestContext, Role } from '@keyledger/application';
import { HttpProblem } from './problem.js';

/** What the edge attaches to each request: the correlation id first, the actor after auth. */
export interface KeyledgerRequest extends Request {
  correlationId: string;
  actor?: Actor;
}

export const PUBLIC_ROUTE = 'keyledger:public';
export const ROLES_KEY = 'keyledger:roles';
/** A route anyone may call (only `GET /health`). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
/** The roles allowed on a route; a principal needs one of them. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const IF_MATCH = /^(?:W\/)?"?(\d{1,15})"?$/;

const header = (req: Request, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export const idempotencyKeyOf = (req: Request): string | null => {
  const key = header(req, 'idempotency-key');
  if (key === undefined) return null;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new HttpProblem('REQUEST.INVALID', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
  }
  return key;
};

const expectedRevisionOf = (req: Request): number | null => {
  const value = header(req, 'if-match');
  if (value === undefined) return null;
  const match = IF_MATCH.exec(value.trim());
  if (!match) throw new HttpProblem('REQUEST.INVALID', 'If-Match must be a key revision, e.g. "3"');
  return Number(match[1]);
};

export const contextOf = (req: KeyledgerRequest): RequestContext => {
  if (!req.actor) throw new HttpProblem('AUTH.UNAUTHENTICATED', 'Authentication is required');
  return {
    actor: req.actor,
    correlationId: req.correlationId,
    idempotencyKey: idempotencyKeyOf(req),
    expectedRevision: expectedRevisionOf(req),
  };
};

/** The request's context for commands and queries. */
export const Ctx = createParamDecorator((_: unknown, host: ExecutionContext): RequestContext =>
  contextOf(host.switchToHttp().getRequest<KeyledgerRequest>()),
);
