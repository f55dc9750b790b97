import { Injectable, Logger } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AuditLog } from '../audit/audit-log.service';
import { RouteGroup } from '../http/route-group.decorator';
import { SessionAuthenticator } from '../session/session-authenticator';
import { ADMIN_BOARD_PATH, READ_ONLY_BOARD_PATH } from './dashboard-boards';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * In front of each board (Bull Board is plain Express, outside the route-group guard): loads
 * the API session and its user as they are now through SessionAuthenticator, then 401 without
 * a user (or an ended session), 403 without the role. The
 * board's own API mutates with cookie-authenticated fetches that carry no CSRF token, so a
 * mutation must come from this origin (Origin header, or Sec-Fetch-Site), and each one is
 * written to the audit log.
 */
@Injectable()
export class DashboardGate {
  private readonly logger = new Logger('Dashboard');

  constructor(
    private readonly sessions: SessionAuthenticator,
    private readonly audit: AuditLog,
  ) {}

  forAdmins(): RequestHandler {
    return (req, res, next) => void this.check(req, res, next, 'admin');
  }

  forEveryone(): RequestHandler {
    return (req, res, next) => void this.check(req, res, next, 'read-only');
  }

  private async check(
    req: Request,
    res: Response,
    next: NextFunction,
    board: 'admin' | 'read-only',
  ): Promise<void> {
    req.routeGroup = board === 'admin' ? RouteGroup.Admin : RouteGroup.Authenticated;
    let user;
    try {
      user = await this.sessions.authenticate(req, res);
    } catch (error) {
      this.logger.warn(`Session not loaded: ${(error as Error).message}`);
      return refuse(res, 503, 'Sessions are unavailable (Redis or PostgreSQL); try again shortly');
    }
    if (!user) {
      return refuse(
        res,
        401,
        'Log in first (POST /auth/login): the dashboard uses the API session',
      );
    }
    if (board === 'admin' && user.role !== 'admin') {
      return refuse(
        res,
        403,
        `The queue dashboard needs the admin role; ${READ_ONLY_BOARD_PATH} is the read-only board`,
      );
    }
    if (!SAFE_METHODS.has(req.method)) {
      if (board === 'read-only') return refuse(res, 403, 'This board is read-only');
      if (!sameOrigin(req))
        return refuse(res, 403, 'Dashboard changes must come from the dashboard page');
      res.once('finish', () => {
        this.audit
          .record({
            actor: user,
            action: `dashboard.${req.method.toLowerCase()}`,
            target: `${ADMIN_BOARD_PATH}${req.path}`,
            detail: { status: res.statusCode, body: req.body ?? {} },
            correlationId: req.correlationId,
          })
          .catch((error: Error) => this.logger.error(`Audit row not written: ${error.message}`));
      });
    }
    next();
  }
}

function refuse(res: Response, statusCode: number, message: string): void {
  res.status(statusCode).json({ statusCode, message });
}

/** A browser sends Origin on every cross-origin request and Sec-Fetch-Site on all of them. */
function sameOrigin(req: Request): boolean {
  const fetchSite = req.headers['sec-fetch-site'];
  if (fetchSite) return fetchSite === 'same-origin';
  const origin = req.headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
