import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { PayoutCycleService } from '../../src/payout/payout-cycle.service';
import { JobName, JobProducer, QueueName } from '../../src/queue';
import { createHttpApp, createUser, HttpApp, login, Session } from '../support/http-app';
import { createPayees, finishedJob, waitForStatus } from '../support/payouts-fixtures';
import { createTestDatabase, query, startTestRedis, testEnv, TestRedis } from '../support/services';
import { startTestSmtp } from '../support/test-smtp';

jest.setTimeout(60_000);

/*
 * An operator's retry of a failed notification job sends the email (a real SMTP exchange), and
 * a retry that cannot help is refused with 409 and the reason.
 */
describe('Notifications: an operator retry re-sends (real PostgreSQL + Redis + SMTP server)', () => {
  let redis: TestRedis;
  let db: string;
  let smtp: Awaited<ReturnType<typeof startTestSmtp>>;
  let smtpPort: number;
  let http: HttpApp;
  let admin: Session;

  beforeAll(async () => {
    redis = await startTestRedis();
    db = await createTestDatabase();
    // Started to learn a free port, then stopped: the notification is sent while SMTP is down.
    smtp = await startTestSmtp();
    smtpPort = Number(new URL(smtp.url).port);
    await smtp.stop();
    http = await createHttpApp(
      testEnv(redis.url, db, {
        APP_ROLE: 'all',
        LOG_LEVEL: 'silent',
        PROVIDER_LATENCY: '0',
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        JOB_ATTEMPTS: '2',
        JOB_BACKOFF_DELAY: '50',
      }),
    );
    await createUser(http, 'ops@example.test', 'admin');
    admin = await login(http.server, 'ops@example.test');
  });
  afterAll(async () => {
    await http?.close();
    await smtp?.stop();
    await redis?.stop();
  });

  const retry = (id: string) =>
    request(http.server)
      .post(`/queues/notifications/jobs/${id}/retry`)
      .set('Cookie', admin.cookie)
      .set('X-CSRF-Token', admin.csrfToken);
  const queue = () => http.app.get(JobProducer).queue(QueueName.Notifications);

  it('fails while SMTP is down; after SMTP is back, the retry sends it and the row becomes sent', async () => {
    const [payee] = await createPayees(db, [{ earnings: [4_200] }]);
    const { payoutId } = (await http.app.get(PayoutCycleService).payPayee(payee)) as {
      payoutId: string;
    };
    await waitForStatus(db, payoutId, 'paid');
    const jobId = `notify-${payoutId}-paid`;
    const failed = await finishedJob(queue(), jobId);
    expect(await failed.getState()).toBe('failed');
    expect(failed.failedReason).toMatch(/ECONNREFUSED/);
    const row = () =>
      query<{ id: number; status: string; lease_token: string | null }>(
        db,
        'SELECT id, status, lease_token FROM notifications WHERE payout_id = $1',
        [payoutId],
      );
    expect(await row()).toEqual([expect.objectContaining({ status: 'failed', lease_token: null })]);

    smtp = await startTestSmtp(() => undefined, smtpPort);
    const res = await retry(jobId).expect(200);
    expect(res.body).toMatchObject({ queue: 'notifications', id: jobId });

    const done = await finishedJob(queue(), jobId);
    expect({ state: await done.getState(), result: done.returnvalue }).toEqual({
      state: 'completed',
      result: { outcome: 'sent', notificationId: (await row())[0].id },
    });
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0].raw).toMatch(/^Subject: Your payout of 42\.00 \w+ has been sent\r?$/m);
    expect(await row()).toEqual([expect.objectContaining({ status: 'sent', lease_token: null })]);
    const attempts = await query<{ outcome: string }>(
      db,
      `SELECT a.outcome FROM notification_attempts a JOIN notifications n ON n.id = a.notification_id
       WHERE n.payout_id = $1 ORDER BY a.id`,
      [payoutId],
    );
    expect(attempts.map((a) => a.outcome)).toEqual(['transient_error', 'transient_error', 'sent']);
  });

  it('refuses (409, with the reason) to retry a notification whose payout does not exist', async () => {
    const missing = randomUUID();
    const job = await http.app
      .get(JobProducer)
      .enqueue(JobName.NotificationPayout, { payoutId: missing, outcome: 'paid' });
    const failed = await finishedJob(queue(), String(job.id));
    expect(await failed.getState()).toBe('failed');

    const res = await retry(String(job.id)).expect(409);
    expect(res.body.message).toBe(
      `Retrying job ${job.id} cannot help: payout ${missing} does not exist: there is no one to notify`,
    );
    expect(await (await queue().getJob(String(job.id)))?.getState()).toBe('failed');
  });
});
