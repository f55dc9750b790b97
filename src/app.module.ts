import { DynamicModule, Module } from '@nestjs/common';
import { AnalyticsModule } from './analytics/analytics.module';
import { AuthModule } from './auth/auth.module';
import { AppConfig, ConfigModule } from './config';
import { CorrelationModule } from './correlation';
import { DashboardModule } from './dashboard/dashboard.module';
import { DatabaseModule } from './database';
import { ExportsModule } from './exports/exports.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { MetricsHttpModule } from './metrics/metrics-http.module';
import { MetricsModule } from './metrics/metrics.module';
import { MetricsWorkerModule } from './metrics/metrics-worker.module';
import { NotificationsModule } from './notifications/notifications.module';
import { PayoutModule } from './payout/payout.module';
import { QueueModule, QueueWorkerModule } from './queue';
import { QueuesApiModule } from './queues-api/queues-api.module';
import { RecoveryModule } from './recovery/recovery.module';
import { RedisModule } from './redis/redis.module';
import { SchedulerModule, SchedulesApiModule } from './scheduler';
import { SessionModule } from './session/session.module';
import { UsersApiModule } from './users/users-api.module';

/** Shared by every role: configuration, connections, queues (to produce) and the domain. */
const CORE = [
  LoggingModule,
  CorrelationModule,
  RedisModule,
  DatabaseModule,
  MetricsModule,
  QueueModule,
  PayoutModule,
  AnalyticsModule,
  NotificationsModule,
  ExportsModule,
  MaintenanceModule,
  RecoveryModule,
];

/** Serving HTTP (roles `all` and `api`). */
const HTTP = [
  SessionModule,
  AuthModule,
  HealthModule,
  MetricsHttpModule,
  QueuesApiModule,
  DashboardModule,
  SchedulesApiModule,
  UsersApiModule,
];

/** Processing jobs (roles `all` and `worker`). */
const WORKER = [QueueWorkerModule, MetricsWorkerModule, SchedulerModule];

/**
 * The one place that decides what each role runs, by the modules it imports:
 *   all = HTTP + WORKER, api = HTTP, worker = WORKER (and no HTTP server is created).
 */
@Module({})
export class AppModule {
  static forRole(config: AppConfig): DynamicModule {
    const serves = config.role !== 'worker';
    const processes = config.role !== 'api';
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ...CORE,
        ...(serves ? HTTP : []),
        ...(processes ? WORKER : []),
      ],
    };
  }
}
