import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  ServiceUnavailableException,
} from '@nestjs/common';
import { catchError, Observable, throwError, timeout, TimeoutError } from 'rxjs';

const QUEUE_CALL_TIMEOUT_MS = 10_000;

/**
 * Bull's connections wait for Redis rather than fail (workers want that), so a queue API call
 * made while Redis is down would hang: it answers 503 after a bound instead.
 */
@Injectable()
export class QueueApiTimeoutInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      timeout(QUEUE_CALL_TIMEOUT_MS),
      catchError((error: unknown) =>
        throwError(() =>
          error instanceof TimeoutError
            ? new ServiceUnavailableException('Redis did not answer in time; try again shortly')
            : error,
        ),
      ),
    );
  }
}
