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
import { waitUntil } from '../support/wait';
import { createTestDatabase, query } from '../support/services';

jest.setTimeout(60_000);

/*
 * PostgreSQL is the source of truth: a payout whose job Redis lost, or whose job finished without
 * finishing it, is enqueued again once it is older than PAYOUT_STUCK_AFTER.
 */
describe('Payouts: the reconciler (real PostgreSQL + Redis)', () => {
  const { boot } = appsOnTestRedis();

  it('the reconciler re-enqueues a payout whose job was lost from Redis, and one whose holder died', async () => {
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

    // Another worker (on a host we cannot see) holds a live lease on the second payout: its job
    // answers "busy" and waits for the lease to end (an hour); then Redis loses that job too.
    await query(
      db,
      `UPDATE payouts SET status = 'processing', lease_owner = 'other-host:1:abc',
         lease_expires_at = now() + interval '1 hour' WHERE id = $1`,
      [finished.id],
    );
    const worker = await boot('worker', db, sameQueues(api));
    // One "busy" attempt, then a wait for the lease (Bull writes the state and the attempt count
    // in two steps: poll for both).
    const waiting = await waitUntil(
      async () => {
        const job = await queue.getJob(finished.id);
        const delayed = (await job?.getState()) === 'delayed';
        return delayed && job?.attemptsMade === 1 ? job : undefined;
      },
      { message: 'the busy payout job to wait for the lease, after one attempt' },
    );
    await waiting.remove();

    // Nothing moves them while they are younger than PAYOUT_STUCK_AFTER and the lease is live.
    const early = await worker
      .get(JobProducer)
      .enqueue(JobName.PayoutReconcile, { trigger: 'manual' });
    expect((await finishedJob(queue, String(early.id))).returnvalue).toMatchObject({
      stuck: 0,
      requeued: 0,
    });

    // That host dies: its lease lapses. The lost payout is old enough by now, too.
    await query(
      db,
      `UPDATE payouts SET updated_at = now() - interval '1 hour',
         lease_expires_at = CASE WHEN lease_owner IS NULL THEN NULL ELSE now() - interval '1 second' END`,
    );
    const run = await worker
      .get(JobProducer)
      .enqueue(JobName.PayoutReconcile, { trigger: 'manual' });
    expect((await finishedJob(queue, String(run.id))).returnvalue).toEqual({
      stuck: 2,
      requeued: 2,
      resolved: 0,
      stillQueued: 0,
    });
    await waitForStatus(db, lost.id, 'paid');
    await waitForStatus(db, finished.id, 'paid');
    const notes = await query<{ detail: string }>(
      db,
      "SELECT detail FROM payout_events WHERE detail LIKE 're-enqueued%' ORDER BY payout_id = $1 DESC",
      [lost.id],
    );
    expect(notes.map((n) => n.detail)).toEqual([
      're-enqueued by the reconciler (job missing from Redis)',
      're-enqueued by the reconciler (job missing from Redis)',
    ]);
    expect(await moneyInvariantViolations(db)).toEqual([]);
  });
});
