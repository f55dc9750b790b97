import { Injectable } from '@nestjs/common';
import { Job } from 'bull';
import { JobData, JobHandler, JobName, QueueName, QueueProcessor } from '../queue';

@Injectable()
@QueueProcessor(QueueName.Notifications)
export class NotificationsProcessor {
  @JobHandler(JobName.NotificationPayout)
  async handlePayoutNotification(
    job: Job<JobData<JobName.NotificationPayout>>,
  ): Promise<{ payoutId: string }> {
    return { payoutId: job.data.payoutId };
  }
}
