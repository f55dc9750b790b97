import { Module } from '@nestjs/common';
import { RouteInventoryModule } from '../http/route-inventory.module';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { MetricsModule } from './metrics.module';
import { QueueGauges } from './queue-gauges';

/** GET /metrics, the queue gauges and HTTP timing: the roles that serve HTTP. */
@Module({
  imports: [MetricsModule, RouteInventoryModule],
  controllers: [MetricsController],
  providers: [QueueGauges, HttpMetricsMiddleware],
  exports: [HttpMetricsMiddleware],
})
export class MetricsHttpModule {}
