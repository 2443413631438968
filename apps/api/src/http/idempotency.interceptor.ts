import { createHash } from 'node:crypto';
import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { IDEMPOTENCY_STORE } from '@keyledger/application';
import { canonicalJson } from '@keyledger/domain';
import type { IdempotencyRecord, IdempotencyStore } from '@keyledger/event-store';
import { HttpProblem, toProblem, type Problem } from './problem.js';
import { ReplayedProblem } from './problem.filter.js';
import { idempotencyKeyOf, type KeyledgerRequest } from './request.js';
import { SECRET_ANSWER } from './secret-answer.js';

const WAIT_FOR_PENDING_MS = 10_000;
const POLL_MS = 25;

/**
 * `Idempotency-Key` on POST: the first request with a key runs and its answer is stored; a retry
 * with the same body gets that answer and appends nothing; another body gets 422. Answers of
 * failed requests (4xx) are stored too; a 5xx releases the key so a retry can run.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<KeyledgerRequest>();
    const key = req.method === 'POST' ? idempotencyKeyOf(req) : null;
    if (key === null || !req.actor) return next.handle();
    // Answers carrying key material or plaintext are never written to the idempotency store.
    if (this.reflector.get<boolean>(SECRET_ANSWER, context.getHandler())) return next.handle();
    const res = context.switchToHttp().getResponse<Response>();
    return from(this.run(req, res, key, next));
  }

  private async run(req: KeyledgerRequest, res: Response, key: string, next: CallHandler): Promise<unknown> {
    const scope = `${req.actor!.principalId} ${req.method} ${req.path}`;
    const hash = createHash('sha256').update(canonicalJson(req.body ?? null)).digest('hex');
    const reserved = await this.store.reserve(scope, key, hash, new Date().toISOString());
    if (reserved.outcome === 'exists') return this.replay(res, await this.settled(reserved.record), hash);
    try {
      const result = await lastValueFrom(next.handle(), { defaultValue: undefined });
      await this.store.complete(scope, key, res.statusCode, JSON.stringify(result ?? null));
      return result;
    } catch (error) {
      const problem = toProblem(error);
      if (problem.status >= 500) await this.store.release(scope, key);
      else await this.store.complete(scope, key, problem.status, JSON.stringify(problem));
      throw error;
    }
  }

  private async settled(record: IdempotencyRecord): Promise<IdempotencyRecord> {
    const deadline = Date.now() + WAIT_FOR_PENDING_MS;
    let current: IdempotencyRecord | null = record;
    while (current?.state === 'pending' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      current = await this.store.get(record.scope, record.key);
    }
    if (!current || current.state === 'pending') {
      throw new HttpProblem('IDEMPOTENCY.IN_PROGRESS', 'A request with this Idempotency-Key is still being processed');
    }
    return current;
  }

  private replay(res: Response, record: IdempotencyRecord, hash: string): unknown {
    if (record.requestHash !== hash) {
      throw new HttpProblem('IDEMPOTENCY.KEY_REUSED', 'This Idempotency-Key was used with another request body');
    }
    res.setHeader('Idempotency-Replayed', 'true');
    const body: unknown = JSON.parse(record.responseBody ?? 'null');
    if ((record.statusCode ?? 200) >= 400) throw new ReplayedProblem(body as Problem);
    res.status(record.statusCode ?? 200);
    return body;
  }
}
