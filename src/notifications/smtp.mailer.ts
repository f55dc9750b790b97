import { OnApplicationShutdown } from '@nestjs/common';
import { createTransport, Transporter } from 'nodemailer';
import { Mailer, MailMessage, MailReceipt } from './mailer';

/**
 * Delivers through the SMTP server of SMTP_URL. Timeouts are short: a notification job must not
 * hang on a dead server (nodemailer waits up to 10 minutes by default); it fails and retries.
 */
export class SmtpMailer implements Mailer, OnApplicationShutdown {
  private readonly transport: Transporter;

  constructor(url: string) {
    this.transport = createTransport(url, {
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
  }

  async send(message: MailMessage): Promise<MailReceipt> {
    const info = (await this.transport.sendMail(message)) as { messageId?: string };
    return { status: 'sent', messageId: info.messageId };
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}
