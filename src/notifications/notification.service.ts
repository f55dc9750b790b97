import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import { NotificationStatus } from '../database';
import { PermanentJobError } from '../queue';
import { isPermanentMailError, MAILER, Mailer } from './mailer';
import { NotificationRepository } from './notification.repository';

export interface AttemptInfo {
  attempt: number;
  maxAttempts: number;
}

export type DeliveryOutcome =
  | { outcome: 'sent' | 'logged'; notificationId: number }
  | { outcome: 'duplicate'; notificationId: number; status: NotificationStatus }
  | { outcome: 'busy'; notificationId: number };

type LockedResult =
  | DeliveryOutcome
  | { outcome: 'error'; notificationId: number; permanent: boolean; error: unknown };

/**
 * Delivers the email of a finished payout once: the notification row is created once per payout
 * and outcome (dedupe key), and a row already sent, logged or failed is not sent again. Every
 * attempt is recorded. A 5xx SMTP reply fails the job for good; a 4xx reply or a network error
 * is retried with backoff. An email is at-least-once at worst (a crash after the SMTP server
 * accepted it and before the commit): SMTP offers nothing better.
 */
@Injectable()
export class NotificationService {
  private readonly logger = new Logger(NotificationService.name);

  constructor(
    private readonly notifications: NotificationRepository,
    @Inject(MAILER) private readonly mailer: Mailer,
    private readonly config: AppConfig,
  ) {}

  async deliverPayoutNotification(
    payoutId: string,
    outcome: 'paid' | 'failed',
    attempt: AttemptInfo,
  ): Promise<DeliveryOutcome> {
    const notificationId = await this.notifications.ensureForPayout(payoutId, outcome);
    if (notificationId === undefined)
      throw new PermanentJobError(`Payout ${payoutId} does not exist`);
    const locked = await this.notifications.withLock(notificationId, async (row, repo) => {
      if (row.status !== 'pending') {
        return { outcome: 'duplicate', notificationId: row.id, status: row.status } as const;
      }
      return this.send(row.id, row.recipient, row.subject, row.body, repo, attempt);
    });
    if (!locked.acquired) return { outcome: 'busy', notificationId };
    const result = locked.value;
    if (result.outcome !== 'error') return result;
    const message = (result.error as Error)?.message ?? String(result.error);
    if (result.permanent) {
      throw new PermanentJobError(`The SMTP server refused the notification: ${message}`, {
        cause: result.error,
      });
    }
    throw result.error;
  }

  private async send(
    id: number,
    to: string,
    subject: string,
    text: string,
    repo: NotificationRepository,
    attempt: AttemptInfo,
  ): Promise<LockedResult> {
    try {
      const receipt = await this.mailer.send({
        from: this.config.notifications.from,
        to,
        subject,
        text,
      });
      await repo.recordAttempt(id, receipt.status, null, receipt.status);
      return { outcome: receipt.status, notificationId: id };
    } catch (error) {
      const permanent = isPermanentMailError(error);
      const lastAttempt = attempt.attempt >= attempt.maxAttempts;
      const message = (error as Error)?.message ?? String(error);
      await repo.recordAttempt(
        id,
        permanent ? 'permanent_error' : 'transient_error',
        message,
        permanent || lastAttempt ? 'failed' : undefined,
      );
      this.logger.warn(
        `Notification ${id} to ${to} failed${permanent ? ' permanently' : ''}: ${message}`,
      );
      return { outcome: 'error', notificationId: id, permanent, error };
    }
  }
}
