import { INestApplicationContext, Logger as NestLogger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { writeSync } from 'node:fs';
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
import { describeRedis } from './redis/redis-options';
import { inspectRedis } from './redis/redis-preflight';
import { ExitCode, SHUTDOWN_BACKSTOP_MARGIN_MS } from './shutdown/exit-codes';
import { gracefulShutdown } from './shutdown/graceful-shutdown';
import { HttpDrain } from './shutdown/http-drain';
import { stopTracing } from './tracing';

export { loadConfigOrExit } from './config/load-config-or-exit';

const logger = new NestLogger('Bootstrap');

/**
 * Start-up failures reach run() (abortOnError: false) instead of Nest printing a stack trace and
 * exiting by itself; the logs buffered until our logger is attached are flushed by us, not on
 * failure (autoFlushLogs: false), so a failed start prints only run()'s line.
 */
const START_OPTIONS = { bufferLogs: true, autoFlushLogs: false, abortOnError: false } as const;

/**
 * Writes one line to stderr before returning. Lines printed right before process.exit() go
 * through here: the logger writes asynchronously (pino-pretty runs in a worker thread) and its
 * last lines are lost when the process exits.
 */
export function printNow(line: string): void {
  writeSync(2, `${line}\n`);
}

/**
 * Redis must answer before anything starts (retrying for a while, so a process started beside
 * its Redis waits for it), and a Redis that may evict keys is reported loudly: Bull loses jobs then.
 */
export async function preflight(config: AppConfig, waitMs = 15_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  let report = await inspectRedis(config.redis, 2_000);
  while (!report.reachable && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    report = await inspectRedis(config.redis, 2_000);
  }
  if (!report.reachable) {
    throw new Error(
      `Redis (${describeRedis(config.redis)}) is not reachable (${report.error}). ` +
        'Start Redis or point REDIS_URL (or REDIS_SENTINELS) at a running one.',
    );
  }
  // Plain lines on stderr: the app's logger does not exist yet, and Nest's default one colours
  // its output even in a log file.
  if (report.evictionPolicy !== 'noeviction') {
    printNow(
      `WARNING !!! Redis maxmemory-policy is "${report.evictionPolicy}", not "noeviction": under memory ` +
        'pressure Redis will evict queue keys and Bull will lose jobs. Set maxmemory-policy noeviction. !!!',
    );
  }
  for (const warning of config.warnings()) printNow(`WARNING ${warning}`);
}

export async function startHttp(config: AppConfig): Promise<NestExpressApplication> {
  await preflight(config);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRole(config), {
    ...START_OPTIONS,
  });
  configureHttp(app, config);
  app.flushLogs();
  // Keep-alive connections are closed when idle at shutdown, in-flight requests drained.
  const http = new HttpDrain(app.getHttpServer());
  await app.listen(config.http.port, config.http.host);
  logger.log(`Role ${config.role}: HTTP on ${config.http.host}:${config.http.port}`);
  handleSignals(app, config, http);
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
  const app = await NestFactory.createApplicationContext(AppModule.forRole(config), START_OPTIONS);
  app.useLogger(app.get(Logger));
  app.flushLogs();
  logger.log(`Role ${config.role}: processing jobs, no HTTP port`);
  handleSignals(app, config);
  return app;
}

/**
 * SIGTERM/SIGINT: stop taking requests and jobs, let active ones finish until SHUTDOWN_TIMEOUT,
 * then give up the rest, close everything and exit (see gracefulShutdown and ExitCode). The hard
 * exit is a last resort, SHUTDOWN_BACKSTOP_MARGIN_MS after the deadline.
 */
function handleSignals(app: INestApplicationContext, config: AppConfig, http?: HttpDrain): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    const deadlineAt = Date.now() + config.shutdownTimeoutMs;
    printNow(
      `${signal} received: no new requests or jobs; active ones have ${config.shutdownTimeoutMs} ms ` +
        '(SHUTDOWN_TIMEOUT) to finish',
    );
    setTimeout(() => {
      printNow('Shutdown still running long after its deadline: exiting now');
      process.exit(ExitCode.Failed);
    }, config.shutdownTimeoutMs + SHUTDOWN_BACKSTOP_MARGIN_MS).unref();
    gracefulShutdown(app, config, deadlineAt, http).then(
      // The last spans are exported once everything else is closed.
      (code) =>
        stopTracing().then(() => {
          printNow(`Shutdown complete: exit code ${code}`);
          process.exit(code);
        }),
      (error: Error) => {
        printNow(`Shutdown failed: ${error.message}`);
        process.exit(ExitCode.Failed);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/** Entry-point wrapper: a start-up failure prints one clear line on stderr and exits 1. */
export function run(start: () => Promise<unknown>): void {
  start().catch((error: unknown) => {
    printNow(`Start-up failed: ${describeStartupFailure(error)}`);
    process.exit(ExitCode.Failed);
  });
}

/** The error as one line that says what to change (the errors Node raises itself say neither). */
export function describeStartupFailure(error: unknown): string {
  const { code, port, address, message } = (error ?? {}) as {
    code?: string;
    port?: number;
    address?: string;
    message?: string;
  };
  if (code === 'EADDRINUSE') {
    return (
      `port ${port} is already in use${address ? ` on ${address}` : ''} (is another instance ` +
      'running?): stop the process that listens there, or set PORT (environment or .env) to a free port.'
    );
  }
  if (code === 'EACCES' && port !== undefined) {
    return `not allowed to listen on port ${port}: set PORT to a port above 1023.`;
  }
  return (message ?? String(error)).split('\n').join(' ');
}
