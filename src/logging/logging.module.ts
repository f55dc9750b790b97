import { Module } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { ClsServiceManager } from 'nestjs-cls';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config';
import { CorrelationStore } from '../correlation';
import { RequestLogMiddleware } from './request-log.middleware';

/** Adds the current request's or job's correlation (and job identity) to every log line. */
export function correlationFields(): Record<string, unknown> {
  const cls = ClsServiceManager.getClsService<CorrelationStore>();
  if (!cls.isActive()) return {};
  const job = cls.get('job');
  if (job) return { correlationId: cls.get('correlationId'), ...job };
  const correlationId = cls.get('correlationId');
  return correlationId ? { correlationId } : {};
}

/**
 * The correlation fields, plus the trace and span IDs when tracing is on, so a log line leads to
 * its trace. With tracing off there is never an active span and nothing is added.
 */
export function logContextFields(): Record<string, unknown> {
  const fields = correlationFields();
  const span = trace.getActiveSpan();
  if (!span) return fields;
  const { traceId, spanId } = span.spanContext();
  return { ...fields, traceId, spanId };
}

/**
 * pino through nestjs-pino: readable lines in development, JSON lines otherwise (production, tests).
 * Nest's Logger is routed here; HTTP access lines come from RequestLogMiddleware (mounted by
 * configureHttp), not from pino-http: nestjs-pino's per-request middleware is not mounted
 * (`forRoutes: []`), it only creates the root logger.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        forRoutes: [],
        pinoHttp: {
          level: config.logLevel,
          mixin: logContextFields,
          serializers: {
            req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
          // Our serializers as they are: pino-http's wrapping first builds its full request object.
          wrapSerializers: false,
          redact: ['req.headers.cookie', 'req.headers.authorization'],
          transport:
            config.nodeEnv !== 'development'
              ? undefined
              : {
                  target: 'pino-pretty',
                  options: {
                    singleLine: true,
                    translateTime: 'SYS:HH:MM:ss.l',
                    // Colour only for a terminal: a log file or a pipe gets plain lines.
                    colorize: Boolean(process.stdout.isTTY),
                  },
                },
        },
      }),
    }),
  ],
  providers: [RequestLogMiddleware],
  exports: [RequestLogMiddleware],
})
export class LoggingModule {}
