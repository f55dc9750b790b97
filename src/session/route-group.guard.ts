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
import { SessionLoader } from './session-loader';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one place route groups are enforced (a global guard). Public: nothing is loaded.
 * Authenticated: the Redis session is loaded and must hold a user; mutations must carry the
 * session's CSRF token. Admin: the same, and the user must be an admin.
 * An undecorated route is authenticated, so a forgotten decorator never opens a route.
 */
@Injectable()
export class RouteGroupGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionLoader,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const group = routeGroupOf(this.reflector, context);
    if (group === RouteGroup.Public) return true;

    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    await this.sessions.load(req, http.getResponse<Response>());
    const user = req.session.user;
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
    return true;
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
