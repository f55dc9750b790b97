import { Injectable } from '@nestjs/common';
import { Job } from 'bull';
import {
  JobData,
  JobHandler,
  JobLike,
  JobName,
  PermanentJobError,
  QueueName,
  QueueProcessor,
  RetryLaterError,
} from '../queue';
import { CycleSummary, PayoutCycleService, PayPayeeResult } from './payout-cycle.service';
import { PayoutProcessingService, ProcessingOutcome } from './payout-processing.service';

/** Clocks of PostgreSQL and the worker differ a little: retry a busy payout just after its lease. */
const LEASE_MARGIN_MS = 250;

const REPAY_HINT =
  "Its amount is back in the payee's balance: pay it again with POST /payees/:id/pay or the next cycle";
import { ReconcilerService, ReconcileSummary } from './reconciler.service';

/** Hands each payouts job to its service; the rules live there. */
@Injectable()
@QueueProcessor(QueueName.Payouts)
export class PayoutProcessor {
  constructor(
    private readonly cycle: PayoutCycleService,
    private readonly processing: PayoutProcessingService,
    private readonly reconciler: ReconcilerService,
  ) {}

  @JobHandler(JobName.PayoutCycle)
  handleCycle(job: JobLike<JobName.PayoutCycle>): Promise<CycleSummary> {
    return this.cycle.runCycle({
      onBatch: ({ payeesScanned, payoutsCreated }) =>
        job.progress({ payeesScanned, payoutsCreated }),
      creatorJob: creatorJob(job),
    });
  }

  @JobHandler(JobName.PayoutPayPayee)
  handlePayPayee(job: Job<JobData<JobName.PayoutPayPayee>>): Promise<PayPayeeResult> {
    return this.cycle.payPayee(job.data.payeeId, creatorJob(job));
  }

  /**
   * A payout that ends failed, or is left for the reconciler, fails its job too: the operator
   * sees it among the failed jobs, with the reason (docs/payouts.md says how to pay it again).
   * A payout another worker holds is retried by Bull once that worker's lease had time to end.
   */
  @JobHandler(JobName.PayoutProcess)
  async handleProcess(job: Job<JobData<JobName.PayoutProcess>>): Promise<ProcessingOutcome> {
    const { payoutId } = job.data;
    const result = await this.processing.process(payoutId, {
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
    });
    switch (result.outcome) {
      case 'busy':
        // Again just after that lease ends: at once if its holder finished, a take-over if it died.
        throw new RetryLaterError(
          `Payout ${payoutId} is held by ${result.leaseOwner}: retried when its lease ends`,
          result.leaseEndsInMs + LEASE_MARGIN_MS,
        );
      case 'failed':
        throw new PermanentJobError(`Payout ${payoutId} failed: ${result.reason}. ${REPAY_HINT}`);
      case 'skipped':
        if (result.status === 'failed') {
          throw new PermanentJobError(`Payout ${payoutId} had already failed. ${REPAY_HINT}`);
        }
        return result;
      case 'left-processing':
        throw new PermanentJobError(
          `Payout ${payoutId} left processing: ${result.reason}. The money may have moved: the ` +
            'reconciler asks the provider and settles it; retrying this job is safe (same idempotency key).',
        );
      default:
        return result;
    }
  }

  @JobHandler(JobName.PayoutReconcile)
  handleReconcile(): Promise<ReconcileSummary> {
    return this.reconciler.reconcile();
  }
}

/**
 * How a payout records the job that created it: the same on every run of that job. Only `name`
 * and `id`: the cycle also runs in-process (legacy scheduler), as a JobLike.
 */
function creatorJob(job: JobLike): string {
  return `${job.name}:${job.id}`;
}
