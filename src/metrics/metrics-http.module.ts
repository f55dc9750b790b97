import { Module } from '@nestjs/common';
import { RouteInventoryModule } from '../http/route-inventory.module';
import { ScheduleCatalogModule } from '../scheduler/schedule-catalog.module';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { MetricsModule } from './metrics.module';
import { QueueGauges } from './queue-gauges';
import { RedisGauges } from './redis-gauges';
import { StoreGauges } from './store-gauges';

/**
 * GET /metrics, HTTP timing and the cluster-wide gauges read at scrape time (queues and Redis
 * from Redis, payouts and schedules from PostgreSQL): the roles that serve HTTP. A worker's
 * metrics server would only report the same numbers again.
 */
@Module({
  imports: [MetricsModule, RouteInventoryModule, ScheduleCatalogModule],
  controllers: [MetricsController],
  providers: [QueueGauges, RedisGauges, StoreGauges, HttpMetricsMiddleware],
  exports: [HttpMetricsMiddleware],
})
export class MetricsHttpModule {}
