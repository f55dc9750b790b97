import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';

/** Errors that mean Redis or PostgreSQL is unreachable right now: the client may retry. */
const UNAVAILABLE = [
  /Connection is closed/i,
  /max retries per request/i,
  /enableOfflineQueue/i,
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE/,
  /Connection terminated/i,
  /terminating connection/i,
  /timeout exceeded when trying to connect/i,
  /the database system is (starting up|shutting down)/i,
  // node-postgres, on a query sent through a connection the server has just closed.
  /is not queryable/i,
];

/** PostgreSQL SQLSTATEs of a lost or refused connection: class 08 and operator intervention 57P01-57P03. */
const UNAVAILABLE_SQLSTATE = /^(08\d{3}|57P0[1-3])$/;

export function isDependencyUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const code = (current as { code?: string }).code ?? '';
    if (
      UNAVAILABLE.some(
        (pattern) =>
          pattern.test(current instanceof Error ? current.message : '') || pattern.test(code),
      )
    ) {
      return true;
    }
    if (UNAVAILABLE_SQLSTATE.test(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * HTTP errors keep Nest's shape; anything else becomes a 503 when a backing service is down
 * (the process reconnects by itself) or a bare 500. Stack traces go to the log, never to the client.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    if (res.headersSent) return;
    const correlationId = req.correlationId;
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      res
        .status(exception.getStatus())
        .json(
          typeof body === 'string' ? { statusCode: exception.getStatus(), message: body } : body,
        );
      return;
    }
    const clientError = asClientError(exception);
    if (clientError) {
      res
        .status(clientError.status)
        .json({ statusCode: clientError.status, message: clientError.message });
      return;
    }
    if (isDependencyUnavailable(exception)) {
      this.logger.warn(
        `${req.method} ${req.path}: backing service unavailable: ${(exception as Error).message}`,
      );
      res.status(HttpStatus.SERVICE_UNAVAILABLE).setHeader('Retry-After', '5').json({
        statusCode: 503,
        message: 'A backing service (Redis or PostgreSQL) is unavailable; try again shortly',
        correlationId,
      });
      return;
    }
    this.logger.error(`${req.method} ${req.path} failed`, (exception as Error)?.stack);
    res
      .status(HttpStatus.INTERNAL_SERVER_ERROR)
      .json({ statusCode: 500, message: 'Internal server error', correlationId });
  }
}

/** Errors from Express middleware (body-parser: 413, malformed JSON 400) that are safe to show. */
function asClientError(error: unknown): { status: number; message: string } | undefined {
  const candidate = error as { status?: unknown; expose?: unknown; message?: unknown };
  if (
    typeof candidate?.status === 'number' &&
    candidate.status >= 400 &&
    candidate.status < 500 &&
    candidate.expose === true
  ) {
    return { status: candidate.status, message: String(candidate.message) };
  }
  return undefined;
}
