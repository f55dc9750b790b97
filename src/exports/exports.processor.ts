import { Injectable } from '@nestjs/common';
import { Job } from 'bull';
import { JobData, JobHandler, JobName, QueueName, QueueProcessor } from '../queue';

@Injectable()
@QueueProcessor(QueueName.Exports)
export class ExportsProcessor {
  @JobHandler(JobName.ExportPayouts)
  async handleExport(job: Job<JobData<JobName.ExportPayouts>>): Promise<{ exportId: string }> {
    return { exportId: job.data.exportId };
  }
}
