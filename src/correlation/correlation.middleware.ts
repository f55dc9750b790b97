import { Injectable, NestMiddleware } from '@nestjs/common';
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
    this.cls.run(() => {
      this.cls.set('correlationId', correlationId);
      this.cls.set('origin', `http ${req.method} ${req.path}`);
      next();
    });
  }
}
