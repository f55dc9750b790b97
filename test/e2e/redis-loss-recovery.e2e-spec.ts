import Redis from 'ioredis';
import { ExportRepository } from '../../src/exports/export.repository';
import { PayoutCycleService } from '../../src/payout/payout-cycle.service';
import { notificationJobId } from '../../src/payout/payout.notifier';
import { RedisLossRecovery } from '../../src/recovery/redis-loss-recovery';
import {
  appsOnTestRedis,
  createPayees,
  JobName,
  JobProducer,
  moneyInvariantViolations,
  QueueName,
  sameQueues,
  TestApp,
} from '../support/payouts-fixtures';
import { createTestDatabase, query } from '../support/services';
import { waitUntil } from '../support/wait';

jest.setTimeout(90_000);

async function flushAll(app: TestApp): Promise<void> {
  const redis = new Redis(app.config.redis.url, { lazyConnect: true });
  try {
    await redis.connect();
    await redis.flushall();
  } finally {
    redis.disconnect();
  }
}

async function exportStatus(db: string, id: string): Promise<string> {
  const [row] = await query<{ status: string }>(db, 'SELECT status FROM exports WHERE id = $1', [
    id,
  ]);
  return row.status;
}

async function undelivered(db: string): Promise<number> {
  const [row] = await query<{ n: number }>(
    db,
    `SELECT count(*)::int AS n FROM payouts p WHERE p.status IN ('paid', 'failed') AND NOT EXISTS (
       SELECT 1 FROM notifications n
       WHERE n.dedupe_key = 'payout:' || p.id || ':' || p.status AND n.status IN ('sent', 'logged'))`,
  );
  return row.n;
}

/*
 * Redis carries the work and PostgreSQL owes it: after a FLUSHALL (what a failover to an empty
 * replica or a restart without persistence does), the redis-loss-check finds the generation
 * marker gone and creates again every job PostgreSQL still owes; the work then finishes once.
 */
describe('Recovery of jobs Redis lost (real Redis + PostgreSQL)', () => {
  const { boot } = appsOnTestRedis();

  it('after FLUSHALL, open payouts, owed notifications and unfinished exports get their jobs back, and nothing is paid twice', async () => {
    const db = await createTestDatabase();
    const api = await boot('api', db);
    const recovery = api.get(RedisLossRecovery);
    const payees = await createPayees(db, [
      { earnings: [1_100] },
      { earnings: [1_200] },
      { earnings: [1_300] },
    ]);
    await api.get(PayoutCycleService).runCycle();
    const exportId = await api.get(ExportRepository).create({}, null);
    await api.get(JobProducer).enqueue(JobName.ExportPayouts, { exportId }, { jobId: exportId });

    // First check: no marker yet (a first start): it sweeps, finds every job in place.
    expect(await recovery.check()).toMatchObject({
      lossSuspected: true,
      reason: expect.stringMatching(/^no generation marker/),
      recovered: { payouts: 0, notifications: 0, exports: 0 },
      confirmed: true,
    });
    expect(await recovery.check()).toEqual({ lossSuspected: false });

    await flushAll(api);
    expect(await api.queue(QueueName.Payouts).getJobCounts()).toMatchObject({ waiting: 0 });
    expect(await recovery.check()).toMatchObject({
      lossSuspected: true,
      reason: expect.stringMatching(/^no generation marker/),
      recovered: { payouts: payees.length, notifications: 0, exports: 1 },
      confirmed: true,
    });
    expect(await recovery.check()).toEqual({ lossSuspected: false });

    // The notifications wait behind a paused queue when Redis is flushed a second time.
    const notifications = api.queue(QueueName.Notifications);
    await notifications.pause();
    await boot('worker', db, sameQueues(api));
    await waitUntil(
      async () => {
        const [row] = await query<{ n: number }>(
          db,
          "SELECT count(*)::int AS n FROM payouts WHERE status = 'paid'",
        );
        return row.n === payees.length && (await exportStatus(db, exportId)) === 'done';
      },
      { timeoutMs: 30_000, message: 'the recovered payouts to be paid and the export done' },
    );
    expect(await undelivered(db)).toBe(payees.length);
    await flushAll(api); // also lifts the pause: it lived in Redis
    // A worker that took a notification job just before the flush writes what its scripts set
    // (processedOn, then its failure) into a key that no longer holds the job: a fragment, which
    // must not pass for the job (seen in the redis-flush chaos scenario).
    const [paid] = await query<{ id: string }>(
      db,
      "SELECT id FROM payouts WHERE status = 'paid' LIMIT 1",
    );
    const fragment = new Redis(api.config.redis.url);
    await fragment.hset(notifications.toKey(notificationJobId(paid.id, 'paid')), {
      processedOn: Date.now(),
      attemptsMade: 1,
      failedReason: 'No handler for job name "__default__" in this queue',
    });
    fragment.disconnect();
    expect(await recovery.check()).toMatchObject({
      lossSuspected: true,
      recovered: { payouts: 0, notifications: payees.length, exports: 0 },
    });
    await waitUntil(async () => (await undelivered(db)) === 0, {
      timeoutMs: 30_000,
      message: 'every paid payout to be notified',
    });

    const notes = await query<{ n: number }>(
      db,
      "SELECT count(*)::int AS n FROM payout_events WHERE detail LIKE 're-enqueued%'",
    );
    expect(notes[0].n).toBe(payees.length);
    const [sends] = await query<{ n: number }>(
      db,
      "SELECT count(*)::int AS n FROM notification_attempts WHERE outcome IN ('sent', 'logged')",
    );
    expect(sends.n).toBe(payees.length);
    expect(await moneyInvariantViolations(db)).toEqual([]);
  });

  it('a run of an export whose job ran again elsewhere is superseded and cannot write', async () => {
    const db = await createTestDatabase();
    const api = await boot('api', db);
    const exports = api.get(ExportRepository);
    const id = await exports.create({}, null);
    const first = await exports.start(id);
    const second = await exports.start(id);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    const stale = { id, token: first! };
    const current = { id, token: second! };
    expect(await exports.appendChunk(stale, 0, Buffer.from('stale'))).toBe(false);
    expect(await exports.progress(stale, 50, 1)).toBe(false);
    expect(await exports.appendChunk(current, 0, Buffer.from('a,b\n'))).toBe(true);
    expect(await exports.finish(stale, { rowCount: 9, byteSize: 5, fileName: 'stale.csv' })).toBe(
      false,
    );
    expect(await exports.fail(stale, 'stale run gave up')).toBe(false);
    expect(await exports.finish(current, { rowCount: 1, byteSize: 4, fileName: 'x.csv' })).toBe(
      true,
    );
    const [row] = await query<{ status: string; file_name: string; chunks: string }>(
      db,
      `SELECT e.status, e.file_name, string_agg(convert_from(c.data, 'UTF8'), '' ORDER BY c.seq) AS chunks
       FROM exports e JOIN export_chunks c ON c.export_id = e.id WHERE e.id = $1
       GROUP BY e.status, e.file_name`,
      [id],
    );
    expect(row).toEqual({ status: 'done', file_name: 'x.csv', chunks: 'a,b\n' });
    expect(await exports.start(id)).toBeUndefined(); // done: never restarted
  });
});
