import { Injectable } from '@nestjs/common';
import { JobHandler, JobLike, JobName, QueueName, QueueProcessor } from '../queue';
import { QueueCleanupReport, QueueCleanupService } from './queue-cleanup.service';

/** Housekeeping jobs. The queue-cleanup schedule runs on the analytics queue (see its contract). */
@Injectable()
@QueueProcessor(QueueName.Analytics)
export class MaintenanceProcessor {
  constructor(private readonly cleanup: QueueCleanupService) {}

  @JobHandler(JobName.QueueCleanup)
  handleQueueCleanup(_job: JobLike<JobName.QueueCleanup>): Promise<QueueCleanupReport> {
    return this.cleanup.cleanAll();
  }
}
