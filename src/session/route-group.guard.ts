import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { ROUTE_GROUP, RouteGroup } from '../http/route-group.decorator';
import { CSRF_HEADER, hasValidCsrfToken } from './csrf';
import { SessionAuthenticator } from './session-authenticator';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one place route groups are enforced (a global guard). Public: nothing is loaded.
 * Authenticated: the Redis session is loaded and must hold a user who is still allowed in (read
 * fresh from PostgreSQL: SessionAuthenticator); mutations must carry the session's CSRF token.
 * Operator: the same, and the user must be an operator or an admin now.
 * Admin: the same, and the user must be an admin now.
 * An undecorated route is authenticated, so a forgotten decorator never opens a route.
 */
@Injectable()
export class RouteGroupGuard implements CanActivate {
  /** Each route's group by controller and handler, read from the decorators once. */
  private readonly groups = new WeakMap<object, WeakMap<object, RouteGroup>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionAuthenticator,
  ) {}

  // Not async: a public route answers true at once, without a promise for Nest to await.
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const group = this.groupOf(context);
    if (group === RouteGroup.Public) return true;
    return this.checkSession(context, group);
  }

  private async checkSession(context: ExecutionContext, group: RouteGroup): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const user = await this.sessions.authenticate(req, http.getResponse<Response>());
    if (!user) throw new UnauthorizedException('Log in first (POST /auth/login)');
    req.user = user;
    if (!SAFE_METHODS.has(req.method) && !hasValidCsrfToken(req)) {
      throw new ForbiddenException(
        `Missing or wrong ${CSRF_HEADER} header (the token comes with /auth/login and /auth/me)`,
      );
    }
    if (group === RouteGroup.Admin && user.role !== 'admin') {
      throw new ForbiddenException('This action needs the admin role');
    }
    if (group === RouteGroup.Operator && user.role !== 'admin' && user.role !== 'operator') {
      throw new ForbiddenException('This action needs the operator or admin role');
    }
    return true;
  }

  private groupOf(context: ExecutionContext): RouteGroup {
    // By class too: an inherited handler takes the group of the controller it is served from.
    let byHandler = this.groups.get(context.getClass());
    if (!byHandler) {
      byHandler = new WeakMap();
      this.groups.set(context.getClass(), byHandler);
    }
    let group = byHandler.get(context.getHandler());
    if (group === undefined) {
      group = routeGroupOf(this.reflector, context);
      byHandler.set(context.getHandler(), group);
    }
    return group;
  }
}

export function routeGroupOf(reflector: Reflector, context: ExecutionContext): RouteGroup {
  return (
    reflector.getAllAndOverride<RouteGroup | undefined>(ROUTE_GROUP, [
      context.getHandler(),
      context.getClass(),
    ]) ?? RouteGroup.Authenticated
  );
}
