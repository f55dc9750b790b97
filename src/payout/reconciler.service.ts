import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import { CorrelationContext } from '../correlation';
import { Payout } from '../database';
import { JobName, JobProducer, QueueName, QueueRegistry } from '../queue';
import { PayoutProcessingService } from './payout-processing.service';
import { PayoutQueryRepository } from './payout-query.repository';
import { PayoutRepository } from './payout.repository';
import { notificationJobId, PayoutNotifier } from './payout.notifier';

export interface ReconcileSummary {
  stuck: number;
  requeued: number;
  /** Settled by asking the provider (paid or declined under the payout's key). */
  resolved: number;
  /** Stuck in PostgreSQL but their job is still waiting, delayed or active: left alone. */
  stillQueued: number;
}

/** Jobs re-created after Redis may have lost data (see RedisLossRecovery). */
export interface LostJobsSummary {
  payouts: number;
  notifications: number;
}

/**
 * How far back finished payouts are checked for a notification that never ran. A notification
 * job lives at most JOB_ATTEMPTS backoffs (minutes); a day covers it with a wide margin.
 */
const NOTIFICATION_LOOKBACK_MS = 24 * 3_600_000;

/** Job states in which Bull will still run the job by itself. */
const QUEUED_STATES = new Set(['waiting', 'delayed', 'paused']);
const PAGE_SIZE = 500;

/**
 * PostgreSQL is the source of truth, Redis only carries work. A payout `pending` or `processing`
 * for longer than PAYOUT_STUCK_AFTER, or whose lease lapsed, is looked at:
 *   - money may have moved (an unknown outcome, a lapsed lease): the provider is asked first
 *     (lookup by the payout's key); paid or declined settles it, "not found" gets a new job;
 *   - otherwise, without a job Bull will still run (lost from Redis, a crash between commit and
 *     enqueue, retries exhausted), it gets a new job. Bull ignores add() with the ID of a job it
 *     still holds, even a finished one, so that job is removed first.
 * The processor makes a duplicate run harmless anyway.
 */
@Injectable()
export class ReconcilerService {
  private readonly logger = new Logger(ReconcilerService.name);

  constructor(
    private readonly query: PayoutQueryRepository,
    private readonly payouts: PayoutRepository,
    private readonly processing: PayoutProcessingService,
    private readonly producer: JobProducer,
    private readonly queues: QueueRegistry,
    private readonly notifier: PayoutNotifier,
    private readonly correlation: CorrelationContext,
    private readonly config: AppConfig,
  ) {}

  async reconcile(): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = { stuck: 0, requeued: 0, resolved: 0, stillQueued: 0 };
    const olderThan = new Date(Date.now() - this.config.payouts.stuckAfterMs);
    let afterId: string | undefined;
    for (;;) {
      const stuck = await this.query.findStuck(olderThan, afterId, PAGE_SIZE);
      if (stuck.length === 0) break;
      afterId = stuck[stuck.length - 1].id;
      summary.stuck += stuck.length;
      for (const payout of stuck) await this.reconcileOne(payout, summary);
    }
    if (summary.stuck > 0) {
      this.logger.log(
        `Reconciler: ${summary.stuck} stuck payouts, ${summary.resolved} settled by lookup, ` +
          `${summary.requeued} re-enqueued, ${summary.stillQueued} still queued`,
      );
    }
    return summary;
  }

  /**
   * After Redis may have lost writes: every open payout, whatever its age, whose job is gone
   * is reconciled now (a new job, or a lookup first when money may have moved), and every
   * recently finished payout whose email was not delivered gets its notification job again.
   */
  async recoverLostJobs(): Promise<LostJobsSummary> {
    const summary: ReconcileSummary = { stuck: 0, requeued: 0, resolved: 0, stillQueued: 0 };
    let afterId: string | undefined;
    for (;;) {
      const open = await this.query.findOpen(afterId, PAGE_SIZE);
      if (open.length === 0) break;
      afterId = open[open.length - 1].id;
      const missing = new Set(
        await this.queues.missingJobIds(
          QueueName.Payouts,
          open.map((payout) => payout.id),
        ),
      );
      const lost = open.filter((payout) => missing.has(payout.id));
      // Nobody can have moved their money: one bulk enqueue and one note for the whole page.
      const mayHaveMoved = (payout: Payout) =>
        payout.outcome_unknown_at !== null || leaseLapsed(payout);
      const plain = lost.filter((payout) => !mayHaveMoved(payout));
      await this.producer.enqueueBulk(
        JobName.PayoutProcess,
        plain.map(({ id }) => ({ payload: { payoutId: id }, jobId: id })),
      );
      await this.payouts.noteMany(
        plain.map(({ id }) => id),
        're-enqueued by the reconciler (job missing from Redis)',
        this.correlation.id ?? null,
      );
      summary.requeued += plain.length;
      for (const payout of lost.filter(mayHaveMoved)) await this.reconcileOne(payout, summary);
    }
    return {
      payouts: summary.requeued + summary.resolved,
      notifications: await this.recoverNotificationJobs(),
    };
  }

  private async recoverNotificationJobs(): Promise<number> {
    const since = new Date(Date.now() - NOTIFICATION_LOOKBACK_MS);
    let recovered = 0;
    let afterId: string | undefined;
    for (;;) {
      const owed = await this.query.findUnnotified(since, afterId, PAGE_SIZE);
      if (owed.length === 0) break;
      afterId = owed[owed.length - 1].id;
      const missing = new Set(
        await this.queues.missingJobIds(
          QueueName.Notifications,
          owed.map(({ id, status }) => notificationJobId(id, status)),
        ),
      );
      for (const { id, status } of owed) {
        if (!missing.has(notificationJobId(id, status))) continue;
        await this.notifier.payoutFinished(id, status);
        recovered += 1;
      }
    }
    return recovered;
  }

  private async reconcileOne(payout: Payout, summary: ReconcileSummary): Promise<void> {
    const queue = this.producer.queue(QueueName.Payouts);
    const job = await queue.getJob(payout.id);
    const state = job ? await job.getState() : 'missing';
    const lapsed = leaseLapsed(payout);
    if (QUEUED_STATES.has(state)) {
      // A job waiting for a lease that has now lapsed need not wait any longer.
      if (state === 'delayed' && lapsed) await job?.promote();
      summary.stillQueued += 1;
      return;
    }
    if (state === 'active' && !lapsed) {
      summary.stillQueued += 1; // a live worker is on it
      return;
    }
    if (payout.outcome_unknown_at !== null || lapsed) {
      const result = await this.processing.resolveByLookup(payout.id);
      if (result.outcome === 'paid' || result.outcome === 'failed') {
        summary.resolved += 1;
        return;
      }
      // An active job whose holder froze comes back through Bull's stalled check by itself.
      // A live holder whose job is gone (Redis lost it under it) gets one: if that run ends in
      // a retry, nothing else would run it; the new job waits for the lease like any busy job.
      const heldWithoutJob = result.outcome === 'busy' && state === 'missing';
      if (!heldWithoutJob && (result.outcome !== 'retry' || state === 'active')) {
        summary.stillQueued += 1;
        return;
      }
    }
    // A finished job keeps its ID reserved: remove it, or add() would silently do nothing.
    if (job) await job.remove();
    await this.producer.enqueue(
      JobName.PayoutProcess,
      { payoutId: payout.id },
      { jobId: payout.id },
    );
    await this.payouts.note(
      payout.id,
      payout.status,
      `re-enqueued by the reconciler (job ${state === 'missing' ? 'missing from Redis' : state})`,
      this.correlation.id ?? null,
    );
    summary.requeued += 1;
  }
}

function leaseLapsed(payout: Payout): boolean {
  return payout.lease_expires_at !== null && new Date(payout.lease_expires_at) <= new Date();
}
