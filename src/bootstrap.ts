import { INestApplicationContext, Logger as NestLogger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { AppConfig } from './config';
import { CorrelationMiddleware } from './correlation';
import { AllExceptionsFilter } from './http/all-exceptions.filter';
import { securityHeaders } from './http/security-headers';
import { RequestLogMiddleware } from './logging/request-log.middleware';
import { HttpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { setupOpenApi } from './openapi/openapi';
import { inspectRedis, redactUrl } from './redis/redis-preflight';
import { stopTracing } from './tracing';

export { loadConfigOrExit } from './config/load-config-or-exit';

const logger = new NestLogger('Bootstrap');

/**
 * Redis must answer before anything starts (retrying for a while, so a process started beside
 * its Redis waits for it), and a Redis that may evict keys is reported loudly: Bull loses jobs then.
 */
export async function preflight(config: AppConfig, waitMs = 15_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  let report = await inspectRedis(config.redis.url, 2_000);
  while (!report.reachable && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    report = await inspectRedis(config.redis.url, 2_000);
  }
  if (!report.reachable) {
    throw new Error(
      `Redis at ${redactUrl(config.redis.url)} is not reachable (${report.error}). ` +
        'Start Redis or point REDIS_URL at a running one.',
    );
  }
  if (report.evictionPolicy !== 'noeviction') {
    logger.warn(
      `!!! Redis maxmemory-policy is "${report.evictionPolicy}", not "noeviction": under memory ` +
        'pressure Redis will evict queue keys and Bull will lose jobs. Set maxmemory-policy noeviction. !!!',
    );
  }
  for (const warning of config.warnings()) logger.warn(warning);
}

export async function startHttp(config: AppConfig): Promise<NestExpressApplication> {
  await preflight(config);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRole(config), {
    bufferLogs: true,
    // Keep-alive sockets must not hold the process open at shutdown.
    forceCloseConnections: true,
  });
  configureHttp(app, config);
  await app.listen(config.http.port, config.http.host);
  logger.log(`Role ${config.role}: HTTP on ${config.http.host}:${config.http.port}`);
  handleSignals(app, config);
  return app;
}

/** HTTP settings shared by main.ts and the e2e tests. */
export function configureHttp(app: NestExpressApplication, config: AppConfig): void {
  app.useLogger(app.get(Logger));
  app.set('trust proxy', config.http.trustProxy);
  app.disable('x-powered-by');
  // First, so it times every request, refused ones included.
  const httpMetrics = app.get(HttpMetricsMiddleware);
  app.use(httpMetrics.use.bind(httpMetrics));
  app.use(securityHeaders());
  if (config.correlation.enabled) {
    const correlation = app.get(CorrelationMiddleware);
    app.use(correlation.use.bind(correlation));
  }
  // After the correlation ID is known and before the body is parsed, so a request refused for
  // its body (400, 413) still gets its ID and its access line.
  const requestLog = app.get(RequestLogMiddleware);
  app.use(requestLog.use.bind(requestLog));
  app.useBodyParser('json', { limit: '100kb' });
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  setupOpenApi(app);
}

export async function startWorker(config: AppConfig): Promise<INestApplicationContext> {
  await preflight(config);
  const app = await NestFactory.createApplicationContext(AppModule.forRole(config), {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  logger.log(`Role ${config.role}: processing jobs, no HTTP port`);
  handleSignals(app, config);
  return app;
}

/**
 * SIGTERM/SIGINT: stop taking requests and jobs, let active jobs finish (bounded by
 * SHUTDOWN_TIMEOUT, see QueueLifecycle), close Redis and the database, export the last spans,
 * then exit 0.
 */
function handleSignals(app: INestApplicationContext, config: AppConfig): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal} received: finishing active work, then exiting`);
    const server =
      'getHttpServer' in app ? (app as NestExpressApplication).getHttpServer() : undefined;
    server?.close();
    setTimeout(() => {
      logger.error('Shutdown took too long: exiting now');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5_000).unref();
    app.close().then(
      () => stopTracing().then(() => process.exit(0)),
      (error: Error) => {
        logger.error(`Shutdown failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/** Entry-point wrapper: a start-up failure prints one clear line and exits non-zero. */
export function run(start: () => Promise<unknown>): void {
  start().catch((error: Error) => {
    logger.error(`Start-up failed: ${error.message}`);
    process.exit(1);
  });
}
