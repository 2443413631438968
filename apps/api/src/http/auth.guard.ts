import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Principals, type Role } from '@keyledger/application';
import { HttpProblem } from './problem.js';
import { PUBLIC_ROUTE, ROLES_KEY, type KeyledgerRequest } from './request.js';

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/;

/** Every route but the public ones needs a bearer token of a live principal with a listed role. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly principals: Principals,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const req = context.switchToHttp().getRequest<KeyledgerRequest>();
    const match = BEARER.exec(req.headers.authorization ?? '');
    const actor = match ? await this.principals.authenticate(match[1]!) : null;
    if (!actor) throw new HttpProblem('AUTH.UNAUTHENTICATED', 'A valid bearer token is required');
    req.actor = actor;
    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets) ?? [];
    if (!actor.roles.some((role) => allowed.includes(role))) {
      throw new HttpProblem('AUTH.FORBIDDEN', `This route needs one of the roles: ${allowed.join(', ') || 'none'}`);
    }
    return true;
  }
}
