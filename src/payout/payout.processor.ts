import { Injectable } from '@nestjs/common';
import { Job } from 'bull';
import { JobData, JobHandler, JobLike, JobName, QueueName, QueueProcessor } from '../queue';
import { CycleSummary, PayoutCycleService, PayPayeeResult } from './payout-cycle.service';
import { PayoutProcessingService, ProcessingOutcome } from './payout-processing.service';
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

  @JobHandler(JobName.PayoutProcess)
  handleProcess(job: Job<JobData<JobName.PayoutProcess>>): Promise<ProcessingOutcome> {
    return this.processing.process(job.data.payoutId, {
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
    });
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
