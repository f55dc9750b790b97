import { Logger } from '@nestjs/common';
import { Mailer, MailMessage, MailReceipt } from './mailer';

/** No SMTP_URL: the notification is written to the log and recorded as `logged`. */
export class LogMailer implements Mailer {
  private readonly logger = new Logger('Notifications');

  async send(message: MailMessage): Promise<MailReceipt> {
    this.logger.log(`Email to ${message.to} (SMTP_URL not set, not sent): ${message.subject}`);
    return { status: 'logged' };
  }
}
