import { Injectable } from '@nestjs/common';
import { JobName, JobProducer } from '../queue';

export type PayoutOutcome = 'paid' | 'failed';

/** One notification job per payout and outcome. */
export function notificationJobId(payoutId: string, outcome: PayoutOutcome): string {
  return `notify-${payoutId}-${outcome}`;
}

/**
 * Enqueues the notification of a finished payout. Its job ID is fixed per payout and outcome,
 * so enqueuing again (a payout job that ran twice) adds nothing while the job is kept, and the
 * notifications table deduplicates after that.
 */
@Injectable()
export class PayoutNotifier {
  constructor(private readonly producer: JobProducer) {}

  async payoutFinished(payoutId: string, outcome: PayoutOutcome): Promise<void> {
    await this.producer.enqueue(
      JobName.NotificationPayout,
      { payoutId, outcome },
      { jobId: notificationJobId(payoutId, outcome) },
    );
  }
}
