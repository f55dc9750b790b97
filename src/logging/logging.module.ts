import { Module } from '@nestjs/common';
import { ClsServiceManager } from 'nestjs-cls';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config';
import { CorrelationStore } from '../correlation';

/** Adds the current request's or job's correlation (and job identity) to every log line. */
export function correlationFields(): Record<string, unknown> {
  const cls = ClsServiceManager.getClsService<CorrelationStore>();
  if (!cls.isActive()) return {};
  const correlationId = cls.get('correlationId');
  const job = cls.get('job');
  return job ? { correlationId, ...job } : correlationId ? { correlationId } : {};
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
          // The correlation ID replaces pino-http's own request id.
          genReqId: () => undefined as unknown as string,
          quietReqLogger: true,
          customLogLevel: (_req, res, error) =>
            error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
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
