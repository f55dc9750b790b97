import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { PinoLogger } from 'nestjs-pino';

/**
 * One access line per request, written when the response is done (or the client went away):
 * `{ correlationId, req: { method, url }, res: { statusCode }, responseTime }`, at `error` for 5xx
 * answers and `info` otherwise (4xx are the client's business). It replaces pino-http, which
 * built two child loggers per request (their bindings serialized through pino-std-serializers
 * and the redaction) and a second AsyncLocalStorage context: a third of the public route's
 * CPU time went there (see bench/README.md). Lines logged during the request get their
 * correlation ID from the logger's mixin (the CLS context), not from a per-request child.
 */
@Injectable()
export class RequestLogMiddleware implements NestMiddleware {
  constructor(private readonly pino: PinoLogger) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const started = Date.now();
    // The URL as the client sent it: Express rewrites req.url inside mounted routers.
    const url = req.originalUrl;
    // 'close' comes after 'finish', and alone when the client hung up first: one listener.
    res.once('close', () => {
      const status = res.statusCode;
      const fields = {
        correlationId: req.correlationId,
        req: { method: req.method, url },
        res: { statusCode: status },
        responseTime: Date.now() - started,
      };
      const logger = this.pino.logger;
      if (status >= 500) logger.error(fields, 'request errored');
      else if (res.writableFinished) logger.info(fields, 'request completed');
      else logger.info(fields, 'request aborted');
    });
    next();
  }
}
