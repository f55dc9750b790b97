import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import { randomUUID } from 'node:crypto';
import { Notification, NotificationStatus } from '../database';
import { PermanentJobError, RetryLaterError } from '../queue';
import { isPermanentMailError, MAILER, Mailer } from './mailer';
import { NotificationRepository } from './notification.repository';
import { payoutNotificationKey } from './payout-message';

export interface AttemptInfo {
  attempt: number;
  maxAttempts: number;
  /** Set when an operator retried the failed job (Bull's `retriedOn`, ms since the epoch). */
  retriedOn?: number;
}

export type DeliveryOutcome =
  | { outcome: 'sent' | 'logged'; notificationId: number }
  | { outcome: 'duplicate'; notificationId: number; status: NotificationStatus };

/**
 * How long a run may take to send one email before another run may take the notification over
 * (its worker died or froze): above the SMTP timeouts of SmtpMailer (10 s + 10 s + 30 s).
 */
export const SEND_LEASE_MS = 60_000;

/** Clocks of PostgreSQL and the worker differ a little: retry a held notification just after. */
const LEASE_MARGIN_MS = 250;

/**
 * Delivers the email of a finished payout once: the notification row is created once per payout
 * and outcome (dedupe key), and a row already sent, logged or failed is not sent again, except
 * when an operator retries the failed job: that reopens a failed row and sends it. Every attempt
 * is recorded. A 5xx SMTP reply fails the job for good; a 4xx reply or a network error is
 * retried with backoff. A run sends under a lease (a conditional update), and no transaction is
 * open during the SMTP exchange. An email is at-least-once at worst (a crash after the SMTP
 * server accepted it and before the attempt is recorded): SMTP offers nothing better.
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
    const token = randomUUID();
    if (attempt.retriedOn === undefined) {
      // The usual case: the payout's finish created the row, pending; take its lease at once.
      const ready = await this.notifications.claimByDedupeKey(
        payoutNotificationKey(payoutId, outcome),
        token,
        SEND_LEASE_MS,
      );
      if (ready) return this.send(ready, token, attempt);
    }
    // No row yet (a payout finished before rows were created with the outcome), a finished or
    // leased row, or an operator's retry: the long way.
    const notification = await this.notifications.ensureForPayout(payoutId, outcome);
    if (!notification) throw new PermanentJobError(`Payout ${payoutId} does not exist`);
    if (attempt.retriedOn !== undefined && notification.status === 'failed') {
      await this.notifications.reopenForRetry(notification.id, attempt.retriedOn);
    }
    const claimed = await this.notifications.claim(notification.id, token, SEND_LEASE_MS);
    if (!claimed) {
      const row = await this.notifications.findByDedupeKey(notification.dedupe_key);
      if (row && row.status !== 'pending') {
        return { outcome: 'duplicate', notificationId: row.id, status: row.status };
      }
      // Another run is sending it now: try again just after its lease ends (it finished, or it
      // died: a job re-created after Redis lost it must not spend its attempts before that).
      const leaseEndsInMs = row?.lease_until ? row.lease_until.getTime() - Date.now() : 0;
      throw new RetryLaterError(
        `Notification ${notification.id} is being sent by another run (lease until ` +
          `${row?.lease_until?.toISOString() ?? 'unknown'}): will try again when it ends`,
        Math.max(0, leaseEndsInMs) + LEASE_MARGIN_MS,
      );
    }
    return this.send(claimed, token, attempt);
  }

  private async send(
    notification: Notification,
    token: string,
    attempt: AttemptInfo,
  ): Promise<DeliveryOutcome> {
    const { id, recipient: to, subject, body: text } = notification;
    try {
      const receipt = await this.mailer.send({
        from: this.config.notifications.from,
        to,
        subject,
        text,
      });
      await this.notifications.recordAttempt(id, token, receipt.status, null, receipt.status);
      return { outcome: receipt.status, notificationId: id };
    } catch (error) {
      const permanent = isPermanentMailError(error);
      const lastAttempt = attempt.attempt >= attempt.maxAttempts;
      const message = (error as Error)?.message ?? String(error);
      await this.notifications.recordAttempt(
        id,
        token,
        permanent ? 'permanent_error' : 'transient_error',
        message,
        permanent || lastAttempt ? 'failed' : undefined,
      );
      this.logger.warn(
        `Notification ${id} to ${to} failed${permanent ? ' permanently' : ''}: ${message}`,
      );
      if (permanent) {
        throw new PermanentJobError(`The SMTP server refused the notification: ${message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }
}
