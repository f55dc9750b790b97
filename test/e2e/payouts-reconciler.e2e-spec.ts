import { Client } from 'pg';
import { PayoutCycleService } from '../../src/payout/payout-cycle.service';
import {
  appsOnTestRedis,
  createPayees,
  finishedJob,
  JobName,
  JobProducer,
  moneyInvariantViolations,
  QueueName,
  sameQueues,
  waitForStatus,
} from '../support/payouts-fixtures';
import { createTestDatabase, query } from '../support/services';

jest.setTimeout(60_000);

/*
 * PostgreSQL is the source of truth: a payout whose job Redis lost, or whose job finished without
 * finishing it, is enqueued again once it is older than PAYOUT_STUCK_AFTER.
 */
describe('Payouts: the reconciler (real PostgreSQL + Redis)', () => {
  const { boot } = appsOnTestRedis();

  it('the reconciler re-enqueues a payout whose job was lost from Redis, and one whose job already finished', async () => {
    const db = await createTestDatabase();
    const api = await boot('api', db);
    const [lostPayee, finishedPayee] = await createPayees(db, [
      { earnings: [1_100] },
      { earnings: [1_300] },
    ]);
    await api.get(PayoutCycleService).runCycle();
    const [lost] = await query<{ id: string }>(db, 'SELECT id FROM payouts WHERE payee_id = $1', [
      lostPayee,
    ]);
    const [finished] = await query<{ id: string }>(
      db,
      'SELECT id FROM payouts WHERE payee_id = $1',
      [finishedPayee],
    );
    const queue = api.queue(QueueName.Payouts);
    await (await queue.getJob(lost.id))?.remove(); // lost from Redis

    // Another session holds the second payout's lock: its job completes as "busy" and the
    // payout stays pending with a finished job, whose ID Bull would refuse to reuse.
    const holder = new Client({ connectionString: db });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [finished.id]);
      const worker = await boot('worker', db, sameQueues(api));
      expect((await finishedJob(queue, finished.id)).returnvalue).toEqual({ outcome: 'busy' });
      await holder.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [finished.id]);

      // Nothing moves them until they are older than PAYOUT_STUCK_AFTER (10 minutes by default).
      const early = await worker
        .get(JobProducer)
        .enqueue(JobName.PayoutReconcile, { trigger: 'manual' });
      expect((await finishedJob(queue, String(early.id))).returnvalue).toMatchObject({
        requeued: 0,
      });
      await query(db, "UPDATE payouts SET updated_at = now() - interval '1 hour'");

      const run = await worker
        .get(JobProducer)
        .enqueue(JobName.PayoutReconcile, { trigger: 'manual' });
      expect((await finishedJob(queue, String(run.id))).returnvalue).toEqual({
        stuck: 2,
        requeued: 2,
        stillQueued: 0,
      });
      await waitForStatus(db, lost.id, 'paid');
      await waitForStatus(db, finished.id, 'paid');
    } finally {
      await holder.end();
    }
    const notes = await query<{ detail: string }>(
      db,
      "SELECT detail FROM payout_events WHERE detail LIKE 're-enqueued%' ORDER BY payout_id = $1 DESC",
      [lost.id],
    );
    expect(notes.map((n) => n.detail)).toEqual([
      're-enqueued by the reconciler (job missing from Redis)',
      're-enqueued by the reconciler (job completed)',
    ]);
    expect(await moneyInvariantViolations(db)).toEqual([]);
  });
});
