import { Injectable, NestMiddleware } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { ClsService } from 'nestjs-cls';
import {
  CORRELATION_HEADER,
  CorrelationStore,
  isSafeCorrelationId,
  REQUEST_ID_HEADER,
} from './correlation.store';

declare module 'express' {
  interface Request {
    correlationId?: string;
  }
}

/**
 * Opens a CLS context per request holding its correlation ID: the caller's X-Correlation-Id
 * (or X-Request-Id) when it is safe to echo, a fresh UUID otherwise. The ID goes back in the
 * response header, into every log line of the request and into every job it enqueues.
 * Mounted only when ENABLE_CORRELATION_IDS is on (see configureHttp).
 */
@Injectable()
export class CorrelationMiddleware implements NestMiddleware {
  constructor(private readonly cls: ClsService<CorrelationStore>) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const incoming = req.headers[CORRELATION_HEADER] ?? req.headers[REQUEST_ID_HEADER];
    const correlationId = isSafeCorrelationId(incoming) ? incoming : randomUUID();
    req.correlationId = correlationId;
    res.setHeader('X-Correlation-Id', correlationId);
    // On the request's span (when tracing is on), so a trace leads to the request's log lines.
    trace.getActiveSpan()?.setAttribute('app.correlation_id', correlationId);
    this.cls.run(() => {
      this.cls.set('correlationId', correlationId);
      this.cls.set('origin', `http ${req.method} ${req.path}`);
      next();
    });
  }
}
