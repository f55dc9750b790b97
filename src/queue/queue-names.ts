/** Queue names are part of the Redis key space: never rename one that holds jobs. */
export enum QueueName {
  Payouts = 'payouts',
  Analytics = 'analytics',
  Notifications = 'notifications',
  Exports = 'exports',
}

export const QUEUE_NAMES: readonly QueueName[] = Object.values(QueueName);

/** Job names are stored with each job: stable strings, never derived from class names. */
export enum JobName {
  PayoutCycle = 'payout.cycle',
  PayoutPayPayee = 'payout.pay-payee',
  PayoutProcess = 'payout.process',
  PayoutReconcile = 'payout.reconcile',
  AnalyticsDailyStats = 'analytics.daily-stats',
  QueueCleanup = 'maintenance.queue-cleanup',
  RedisLossCheck = 'maintenance.redis-loss-check',
  NotificationPayout = 'notification.payout',
  ExportPayouts = 'export.payouts',
}

export function isQueueName(value: string): value is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(value);
}
