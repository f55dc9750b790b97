import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { MetricsModule } from '../metrics/metrics.module';
import { CorrelationTrailService } from './correlation-trail.service';
import { JobsByCorrelationController } from './jobs-by-correlation.controller';
import { QueueAdminService } from './queue-admin.service';
import { QueueJobsController } from './queue-jobs.controller';
import { QueueJobsService } from './queue-jobs.service';
import { QueueLocator } from './queue-locator';
import { QueueStatsService } from './queue-stats.service';
import { QueuesController } from './queues.controller';

/** The queue management API (GET /queues..., POST /queues/:name/...), for the HTTP roles. */
@Module({
  imports: [AuditModule, MetricsModule],
  controllers: [QueuesController, QueueJobsController, JobsByCorrelationController],
  providers: [
    QueueLocator,
    QueueStatsService,
    QueueJobsService,
    QueueAdminService,
    CorrelationTrailService,
  ],
  exports: [QueueLocator],
})
export class QueuesApiModule {}
