import { Module } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { ClsServiceManager } from 'nestjs-cls';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config';
import { CorrelationStore } from '../correlation';

/** Adds the current request's or job's correlation (and job identity) to every log line. */
export function correlationFields(): Record<string, unknown> {
  const cls = ClsServiceManager.getClsService<CorrelationStore>();
  if (!cls.isActive()) return {};
  const job = cls.get('job');
  if (job) return { correlationId: cls.get('correlationId'), ...job };
  // Inside a request pino-http already binds the ID (see genReqId); elsewhere (a scheduler tick) add it.
  if (cls.get('origin')?.startsWith('http ')) return {};
  const correlationId = cls.get('correlationId');
  return correlationId ? { correlationId } : {};
}

/**
 * pino through nestjs-pino: readable lines in development, JSON lines otherwise (production, tests).
 * HTTP access lines come from pino-http; everything else from Nest's Logger, routed here.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.logLevel,
          mixin: correlationFields,
          // The correlation ID (set by CorrelationMiddleware, which runs first) is the request id.
          genReqId: (req: IncomingMessage & { correlationId?: string }) =>
            req.correlationId as string,
          customAttributeKeys: { reqId: 'correlationId' },
          quietReqLogger: true,
          // 4xx answers are the client's business (and frequent: 401s); 5xx are ours.
          customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
          serializers: {
            req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
          redact: ['req.headers.cookie', 'req.headers.authorization'],
          transport:
            config.nodeEnv !== 'development'
              ? undefined
              : {
                  target: 'pino-pretty',
                  options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' },
                },
        },
      }),
    }),
  ],
})
export class LoggingModule {}
