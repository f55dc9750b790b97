import { AppEnv } from './app.env';
import { AuthEnv } from './auth.env';
import { DatabaseEnv } from './database.env';
import { ExportsEnv } from './exports.env';
import { MetricsEnv } from './metrics.env';
import { NotificationsEnv } from './notifications.env';
import { PayoutsEnv } from './payouts.env';
import { QueueEnv } from './queue.env';
import { RedisEnv } from './redis.env';
import { SchedulerEnv } from './scheduler.env';
import { SessionEnv } from './session.env';
import { TracingEnv } from './tracing.env';

export * from './app.env';
export * from './payouts.env';
export * from './tracing.env';

/** The schema, split by concern. Every variable the process reads is a property of one of these. */
export const ENV_SCHEMAS = [
  AppEnv,
  RedisEnv,
  DatabaseEnv,
  QueueEnv,
  SessionEnv,
  AuthEnv,
  SchedulerEnv,
  PayoutsEnv,
  NotificationsEnv,
  ExportsEnv,
  MetricsEnv,
  TracingEnv,
] as const;

export {
  AppEnv,
  AuthEnv,
  DatabaseEnv,
  ExportsEnv,
  MetricsEnv,
  NotificationsEnv,
  PayoutsEnv,
  QueueEnv,
  RedisEnv,
  SchedulerEnv,
  SessionEnv,
  TracingEnv,
};

/** Values never printed back in error messages. */
export const SECRET_VARIABLES = new Set([
  'SESSION_SECRET',
  'BOOTSTRAP_ADMIN_PASSWORD',
  'METRICS_TOKEN',
  'SMTP_URL',
  'REDIS_SENTINEL_PASSWORD',
  'OTEL_EXPORTER_OTLP_HEADERS',
]);
