import { Injectable, Logger } from '@nestjs/common';
import { Job } from 'bull';
import { JobData, JobHandler, JobName, QueueName, QueueProcessor } from '../queue';

@Injectable()
@QueueProcessor(QueueName.Payouts)
export class PayoutProcessor {
  private readonly logger = new Logger(PayoutProcessor.name);

  @JobHandler(JobName.PayoutCycle)
  async handleCycle(job: Job<JobData<JobName.PayoutCycle>>): Promise<{ trigger: string }> {
    this.logger.log(`Payout cycle (${job.data.trigger})`);
    return { trigger: job.data.trigger };
  }

  @JobHandler(JobName.PayoutPayPayee)
  async handlePayPayee(job: Job<JobData<JobName.PayoutPayPayee>>): Promise<{ payeeId: number }> {
    return { payeeId: job.data.payeeId };
  }

  @JobHandler(JobName.PayoutProcess)
  async handleProcess(job: Job<JobData<JobName.PayoutProcess>>): Promise<{ payoutId: string }> {
    return { payoutId: job.data.payoutId };
  }

  @JobHandler(JobName.PayoutReconcile)
  async handleReconcile(): Promise<{ requeued: number }> {
    return { requeued: 0 };
  }
}
