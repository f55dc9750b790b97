import { Module } from '@nestjs/common';
import { AppConfig } from '../config';
import { LogMailer } from './log.mailer';
import { MAILER, Mailer } from './mailer';
import { NotificationRetryCheck } from './notification-retry.check';
import { NotificationRepository } from './notification.repository';
import { NotificationService } from './notification.service';
import { NotificationsProcessor } from './notifications.processor';
import { SmtpMailer } from './smtp.mailer';

@Module({
  providers: [
    {
      provide: MAILER,
      inject: [AppConfig],
      useFactory: (config: AppConfig): Mailer =>
        config.notifications.smtpUrl
          ? new SmtpMailer(config.notifications.smtpUrl)
          : new LogMailer(),
    },
    NotificationRepository,
    NotificationService,
    NotificationsProcessor,
    NotificationRetryCheck,
  ],
  exports: [NotificationService],
})
export class NotificationsModule {}
