import { Injectable } from '@nestjs/common';
import { Job } from 'bull';
import { JobData, JobHandler, JobName, QueueName, QueueProcessor } from '../queue';
import { AnalyticsService, DayStats } from './analytics.service';

@Injectable()
@QueueProcessor(QueueName.Analytics)
export class AnalyticsProcessor {
  constructor(private readonly analytics: AnalyticsService) {}

  @JobHandler(JobName.AnalyticsDailyStats)
  handleDailyStats(job: Job<JobData<JobName.AnalyticsDailyStats>>): Promise<DayStats[]> {
    return this.analytics.computeDailyStats(job.data.day);
  }
}
