import { IsOptional, Matches } from 'class-validator';

/** Payout notifications by email. */
export class NotificationsEnv {
  /**
   * smtp://user:password@host:587 or smtps://... (secret). When unset, notifications are only
   * recorded with status `logged` and written to the log.
   */
  @IsOptional()
  @Matches(/^smtps?:\/\/[^\s]+$/, { message: 'must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  /** Sender of payout notifications: an address, optionally with a display name. */
  @Matches(/^([^<>\n]+<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/, {
    message: 'must be an email address, optionally as "Name <address>"',
  })
  NOTIFICATION_FROM = 'Payouts <payouts@localhost>';
}
