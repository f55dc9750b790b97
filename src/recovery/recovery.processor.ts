import { Injectable } from '@nestjs/common';
import { JobHandler, JobLike, JobName, QueueName, QueueProcessor } from '../queue';
import { RedisLossCheckReport, RedisLossRecovery } from './redis-loss-recovery';

/** The redis-loss-check schedule runs on the analytics queue (see its contract), like maintenance. */
@Injectable()
@QueueProcessor(QueueName.Analytics)
export class RecoveryProcessor {
  constructor(private readonly recovery: RedisLossRecovery) {}

  @JobHandler(JobName.RedisLossCheck)
  handleRedisLossCheck(_job: JobLike<JobName.RedisLossCheck>): Promise<RedisLossCheckReport> {
    return this.recovery.check();
  }
}
