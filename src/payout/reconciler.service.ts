import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config';
import { CorrelationContext } from '../correlation';
import { JobName, JobProducer, QueueName } from '../queue';
import { PayoutQueryRepository } from './payout-query.repository';
import { PayoutRepository } from './payout.repository';

export interface ReconcileSummary {
  stuck: number;
  requeued: number;
  /** Stuck in PostgreSQL but their job is still waiting, delayed or active: left alone. */
  stillQueued: number;
}

/** Job states in which Bull will still run the job by itself. */
const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'paused']);
const PAGE_SIZE = 500;

/**
 * PostgreSQL is the source of truth, Redis only carries work: a payout `pending` or `processing`
 * for longer than PAYOUT_STUCK_AFTER without a live job (lost from Redis, a crash between the
 * commit and the enqueue, retries exhausted with an unknown outcome) gets a new job. Bull ignores
 * add() with the ID of a job it still holds, even a finished one, so that job is removed first;
 * the processor makes a duplicate run harmless anyway.
 */
@Injectable()
export class ReconcilerService {
  private readonly logger = new Logger(ReconcilerService.name);

  constructor(
    private readonly query: PayoutQueryRepository,
    private readonly payouts: PayoutRepository,
    private readonly producer: JobProducer,
    private readonly correlation: CorrelationContext,
    private readonly config: AppConfig,
  ) {}

  async reconcile(): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = { stuck: 0, requeued: 0, stillQueued: 0 };
    const olderThan = new Date(Date.now() - this.config.payouts.stuckAfterMs);
    const queue = this.producer.queue(QueueName.Payouts);
    let afterId: string | undefined;
    for (;;) {
      const stuck = await this.query.findStuck(olderThan, afterId, PAGE_SIZE);
      if (stuck.length === 0) break;
      afterId = stuck[stuck.length - 1].id;
      summary.stuck += stuck.length;
      for (const payout of stuck) {
        const job = await queue.getJob(payout.id);
        const state = job ? await job.getState() : 'missing';
        if (LIVE_STATES.has(state)) {
          summary.stillQueued += 1;
          continue;
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
    if (summary.stuck > 0) {
      this.logger.log(
        `Reconciler: ${summary.stuck} stuck payouts, ${summary.requeued} re-enqueued, ${summary.stillQueued} still queued`,
      );
    }
    return summary;
  }
}
