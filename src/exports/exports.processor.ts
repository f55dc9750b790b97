import { Injectable } from '@nestjs/common';
import { Job } from 'bull';
import { JobData, JobHandler, JobName, QueueName, QueueProcessor } from '../queue';
import { ExportRunResult, ExportWriterService } from './export-writer.service';

@Injectable()
@QueueProcessor(QueueName.Exports)
export class ExportsProcessor {
  constructor(private readonly writer: ExportWriterService) {}

  @JobHandler(JobName.ExportPayouts)
  handleExport(job: Job<JobData<JobName.ExportPayouts>>): Promise<ExportRunResult> {
    return this.writer.run(job.data.exportId, (percent) => job.progress(percent), {
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
    });
  }
}
