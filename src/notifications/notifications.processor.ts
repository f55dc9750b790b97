import { Injectable } from '@nestjs/common';
import { Job } from 'bull';
import { JobData, JobHandler, JobName, QueueName, QueueProcessor } from '../queue';
import { DeliveryOutcome, NotificationService } from './notification.service';

@Injectable()
@QueueProcessor(QueueName.Notifications)
export class NotificationsProcessor {
  constructor(private readonly notifications: NotificationService) {}

  @JobHandler(JobName.NotificationPayout)
  handlePayoutNotification(
    job: Job<JobData<JobName.NotificationPayout>>,
  ): Promise<DeliveryOutcome> {
    return this.notifications.deliverPayoutNotification(job.data.payoutId, job.data.outcome, {
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
      // Bull stamps retriedOn only when someone retries the failed job (API, board, retry-failed).
      retriedOn: (job as Job & { retriedOn?: number }).retriedOn,
    });
  }
}
