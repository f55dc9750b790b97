import {
  CallHandler,
  ExecutionContext,
  HttpException,
  Injectable,
  Logger,
  NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { catchError, concatMap, from, Observable, throwError } from 'rxjs';
import { CorrelationContext } from '../correlation';
import { AuditLog } from './audit-log.service';

export const AUDIT_ACTION = 'audit-action';
export const AUDIT_TARGET = 'audit-target';

/**
 * Audits the @Audited handlers: after the handler answers (or refuses with a 4xx, which is
 * recorded as `refused`), one audit_log row with the actor from the session, the target from the
 * route parameters, the request body and the outcome, and the request's correlation ID. The
 * answer waits for the row: a mutation whose audit cannot be written answers 503, not 2xx.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Audit');

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditLog,
    private readonly correlation: CorrelationContext,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const action = this.reflector.get<string | undefined>(AUDIT_ACTION, context.getHandler());
    if (!action) return next.handle();
    const req = context.switchToHttp().getRequest<Request>();
    const target = this.reflector.get<((req: Request) => string) | undefined>(
      AUDIT_TARGET,
      context.getHandler(),
    );
    const write = (detail: Record<string, unknown>) =>
      this.audit.record({
        actor: req.user,
        action,
        target: target ? target(req) : targetOf(req.params),
        detail: { method: req.method, path: req.path, body: req.body ?? {}, ...detail },
        correlationId: req.correlationId ?? this.correlation.id,
      });

    return next.handle().pipe(
      concatMap((result: unknown) =>
        from(write({ outcome: 'done', result })).pipe(concatMap(() => [result])),
      ),
      catchError((error: unknown) => {
        const status = error instanceof HttpException ? error.getStatus() : 500;
        const outcome = status < 500 ? 'refused' : 'error';
        return from(
          write({ outcome, status, reason: (error as Error).message }).catch((auditError: Error) =>
            this.logger.error(`Audit row for refused ${action} not written: ${auditError.message}`),
          ),
        ).pipe(concatMap(() => throwError(() => error)));
      }),
    );
  }
}

/** `payouts`, `payouts/42`: the queue and job named in the route. */
function targetOf(params: Record<string, string | string[] | undefined>): string {
  return [params.name, params.id].flat().filter(Boolean).join('/') || 'queues';
}
