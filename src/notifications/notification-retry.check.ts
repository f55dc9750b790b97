import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Job } from 'bull';
import { isUUID } from 'class-validator';
import { JobName, RetryChecks } from '../queue';
import { NotificationRepository } from './notification.repository';
import { payoutNotificationKey } from './payout-message';

/**
 * Refuses an operator's retry of a notification job that cannot send anything: its payout is
 * gone, or its email was already delivered (by another job of the same notification).
 */
@Injectable()
export class NotificationRetryCheck implements OnModuleInit {
  constructor(
    private readonly retryChecks: RetryChecks,
    private readonly notifications: NotificationRepository,
  ) {}

  onModuleInit(): void {
    this.retryChecks.register(JobName.NotificationPayout, (job) => this.whyNotRetry(job));
  }

  private async whyNotRetry(job: Job): Promise<string | undefined> {
    const { payoutId, outcome } = (job.data ?? {}) as { payoutId?: unknown; outcome?: unknown };
    if (
      typeof payoutId !== 'string' ||
      !isUUID(payoutId) ||
      (outcome !== 'paid' && outcome !== 'failed')
    ) {
      return 'its data names no payout and outcome; it would fail the same way (remove it)';
    }
    const notification = await this.notifications.findByDedupeKey(
      payoutNotificationKey(payoutId, outcome),
    );
    if (notification?.status === 'sent' || notification?.status === 'logged') {
      return `notification ${notification.id} (payout ${payoutId}, ${outcome}) was already ${notification.status}`;
    }
    if (!notification && !(await this.notifications.payoutExists(payoutId))) {
      return `payout ${payoutId} does not exist: there is no one to notify`;
    }
    return undefined;
  }
}
