import { NotificationService } from '../../src/notifications/notification.service';
import { PayoutCycleService } from '../../src/payout/payout-cycle.service';
import {
  bootApp,
  createPayees,
  finishedJob,
  JobName,
  JobProducer,
  QueueName,
  TestApp,
  waitForStatus,
} from '../support/payouts-fixtures';
import { createTestDatabase, query, startTestRedis, TestRedis } from '../support/services';
import { startTestSmtp } from '../support/test-smtp';
import { waitUntil } from '../support/wait';

jest.setTimeout(60_000);

/*
 * Payout notifications delivered through a real SMTP exchange with a local server: the payee
 * gets one email per payout outcome, with the amount; a 5xx reply is not retried, a 4xx is.
 */
describe('Notifications: payout emails over SMTP (real PostgreSQL + Redis + SMTP server)', () => {
  let redis: TestRedis;
  let smtp: Awaited<ReturnType<typeof startTestSmtp>>;
  let db: string;
  let worker: TestApp;
  const busyOnce = new Set<string>();

  beforeAll(async () => {
    redis = await startTestRedis();
    smtp = await startTestSmtp((address) => {
      if (address.startsWith('closed.')) return 550;
      if (address.startsWith('busy.') && !busyOnce.has(address)) {
        busyOnce.add(address);
        return 451;
      }
      return undefined;
    });
    db = await createTestDatabase();
    worker = await bootApp('worker', redis.url, db, {
      SMTP_URL: smtp.url,
      NOTIFICATION_FROM: 'Payouts Team <payouts@example.test>',
      JOB_ATTEMPTS: '3',
      JOB_BACKOFF_DELAY: '50',
    });
  });
  afterAll(async () => {
    await worker?.close();
    await smtp?.stop();
    await redis?.stop();
  });

  async function payeeWithEmail(email: string, earnings: number[]): Promise<number> {
    const [id] = await createPayees(db, [{ earnings }]);
    await query(db, 'UPDATE payees SET email = $2, name = $3 WHERE id = $1', [
      id,
      email,
      'Ada Lovelace',
    ]);
    return id;
  }

  async function payNow(payee: number): Promise<string> {
    const { payoutId } = (await worker.get(PayoutCycleService).payPayee(payee)) as {
      payoutId: string;
    };
    await waitForStatus(db, payoutId, 'paid');
    return payoutId;
  }

  const mailsTo = (address: string) => smtp.received.filter((m) => m.to.includes(address));

  it('emails the payee that the payout was sent, with the amount; a second run of the job sends nothing', async () => {
    const payee = await payeeWithEmail('ada@example.test', [10_000, 2_345]);
    const payoutId = await payNow(payee);

    await waitUntil(() => mailsTo('ada@example.test').length === 1, { message: 'the email' });
    const [mail] = mailsTo('ada@example.test');
    expect(mail.from).toBe('payouts@example.test');
    expect(mail.raw).toMatch(/^Subject: Your payout of 123\.45 EUR has been sent\r?$/m);
    expect(mail.raw).toContain('Hello Ada Lovelace');
    expect(mail.raw).toMatch(/We have sent you 123\.45 EUR \(reference sim_[0-9a-f]+\)/);
    // The SMTP server has the mail a moment before the worker records the delivery.
    const notification = await waitUntil(
      async () => {
        const [row] = await query<{ status: string; recipient: string; id: number }>(
          db,
          'SELECT id, status, recipient FROM notifications WHERE dedupe_key = $1',
          [`payout:${payoutId}:paid`],
        );
        return row?.status === 'sent' ? row : undefined;
      },
      { message: 'the delivery to be recorded' },
    );
    expect(notification).toMatchObject({ status: 'sent', recipient: 'ada@example.test' });

    // The same notification job again (another job ID, as after a lost completion): no email.
    const again = await worker
      .get(JobProducer)
      .enqueue(
        JobName.NotificationPayout,
        { payoutId, outcome: 'paid' },
        { jobId: `again-${payoutId}` },
      );
    const done = await finishedJob(worker.queue(QueueName.Notifications), String(again.id));
    expect(done.returnvalue).toEqual({
      outcome: 'duplicate',
      notificationId: notification.id,
      status: 'sent',
    });
    expect(mailsTo('ada@example.test')).toHaveLength(1);
    expect(
      await query(db, 'SELECT outcome FROM notification_attempts WHERE notification_id = $1', [
        notification.id,
      ]),
    ).toEqual([{ outcome: 'sent' }]);
  });

  it('does not retry a permanent SMTP refusal (5xx): the notification fails after one attempt', async () => {
    const payee = await payeeWithEmail('closed.mailbox@example.test', [5_000]);
    const payoutId = await payNow(payee);
    const job = await finishedJob(worker.queue(QueueName.Notifications), `notify-${payoutId}-paid`);

    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/^The SMTP server refused the notification: .*550/);
    const rows = await query<{ status: string; attempts: number; outcome: string }>(
      db,
      `SELECT n.status, n.attempts, a.outcome FROM notifications n
       JOIN notification_attempts a ON a.notification_id = n.id WHERE n.payout_id = $1`,
      [payoutId],
    );
    expect(rows).toEqual([{ status: 'failed', attempts: 1, outcome: 'permanent_error' }]);
  });

  it('retries a temporary SMTP refusal (4xx) with backoff, then sends once', async () => {
    const payee = await payeeWithEmail('busy.mailbox@example.test', [7_000]);
    const payoutId = await payNow(payee);
    const job = await finishedJob(worker.queue(QueueName.Notifications), `notify-${payoutId}-paid`);

    expect(await job.getState()).toBe('completed');
    expect(job.returnvalue).toMatchObject({ outcome: 'sent' });
    expect(mailsTo('busy.mailbox@example.test')).toHaveLength(1);
    const attempts = await query<{ outcome: string; error: string | null }>(
      db,
      `SELECT a.outcome, a.error FROM notification_attempts a
       JOIN notifications n ON n.id = a.notification_id WHERE n.payout_id = $1 ORDER BY a.id`,
      [payoutId],
    );
    expect(attempts.map((a) => a.outcome)).toEqual(['transient_error', 'sent']);
    expect(attempts[0].error).toMatch(/451/);
  });

  it('only records the notification as logged when SMTP_URL is not set', async () => {
    const payee = await payeeWithEmail('nosmtp@example.test', [3_000]);
    const payoutId = await payNow(payee);
    await finishedJob(worker.queue(QueueName.Notifications), `notify-${payoutId}-paid`);
    const before = smtp.received.length;

    const api = await bootApp('api', redis.url, db); // no SMTP_URL
    try {
      const result = await api
        .get(NotificationService)
        .deliverPayoutNotification(payoutId, 'failed', { attempt: 1, maxAttempts: 1 });
      expect(result).toMatchObject({ outcome: 'logged' });
    } finally {
      await api.close();
    }
    expect(smtp.received).toHaveLength(before);
    expect(
      await query(db, 'SELECT status FROM notifications WHERE dedupe_key = $1', [
        `payout:${payoutId}:failed`,
      ]),
    ).toEqual([{ status: 'logged' }]);
  });
});
