import { Injectable } from '@nestjs/common';
import { Job } from 'bull';
import { JobData, JobHandler, JobName, QueueName, QueueProcessor } from '../queue';

@Injectable()
@QueueProcessor(QueueName.Analytics)
export class AnalyticsProcessor {
  @JobHandler(JobName.AnalyticsDailyStats)
  async handleDailyStats(
    job: Job<JobData<JobName.AnalyticsDailyStats>>,
  ): Promise<{ day?: string }> {
    return { day: job.data.day };
  }
}
