import { Module } from '@nestjs/common';
import { JobMetricsListener } from './job-metrics.listener';
import { MetricsModule } from './metrics.module';
import { WorkerMetricsServer } from './worker-metrics.server';

/** Job metrics from the queues' local events, and METRICS_PORT: the roles that process jobs. */
@Module({
  imports: [MetricsModule],
  providers: [JobMetricsListener, WorkerMetricsServer],
})
export class MetricsWorkerModule {}
