import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Histogram } from 'prom-client';
import { RouteGroup } from '../http/route-group.decorator';
import { RouteInventory } from '../http/route-inventory';
import { MetricsRegistry } from './metrics.registry';

declare module 'express' {
  interface Request {
    /** Set by middleware that serves routes outside Nest's controllers (dashboard, docs). */
    routeGroup?: RouteGroup;
  }
}

/**
 * http_request_duration_seconds by route group, method and status. Mounted first (see
 * configureHttp) so it times every request, including those the guard refuses before any
 * interceptor would run; the group comes from the Express route that matched, looked up in the
 * RouteInventory, or from `req.routeGroup`; `unmatched` for 404s, which keeps the label bounded.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  private readonly duration: Histogram<'group' | 'method' | 'status'>;

  constructor(
    private readonly routes: RouteInventory,
    metrics: MetricsRegistry,
  ) {
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route group (public, authenticated, admin), method and status',
      labelNames: ['group', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics.registry],
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.duration.observe(
        { group: this.groupOf(req), method: req.method, status: String(res.statusCode) },
        seconds,
      );
    });
    next();
  }

  private groupOf(req: Request): string {
    if (req.routeGroup) return req.routeGroup;
    const routePath = (req.route as { path?: unknown } | undefined)?.path;
    if (typeof routePath !== 'string') return 'unmatched';
    return this.routes.groupOf(req.method, routePath) ?? 'unmatched';
  }
}
