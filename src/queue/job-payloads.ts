import { IsIn, IsInt, IsOptional, IsUUID, Matches, Min } from 'class-validator';

/*
 * One class per job: the compile-time payload type and the runtime check of data read back
 * from Redis (which another producer or an older version may have written). Keep them flat,
 * with class-validator decorators only: the dispatcher validates the job's own properties as
 * they are, without class-transformer (no @Type, no nested classes).
 */

export class PayoutCycleJob {
  @IsIn(['schedule', 'manual'])
  trigger!: 'schedule' | 'manual';
}

export class PayoutPayPayeeJob {
  @IsInt()
  @Min(1)
  payeeId!: number;
}

export class PayoutProcessJob {
  @IsUUID()
  payoutId!: string;
}

export class PayoutReconcileJob {
  @IsIn(['schedule', 'manual'])
  trigger!: 'schedule' | 'manual';
}

export class AnalyticsDailyStatsJob {
  /** The day to compute (YYYY-MM-DD, UTC); yesterday and today when omitted. */
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/)
  day?: string;
}

export class QueueCleanupJob {
  @IsIn(['schedule', 'manual'])
  trigger!: 'schedule' | 'manual';
}

export class RedisLossCheckJob {
  @IsIn(['schedule', 'manual'])
  trigger!: 'schedule' | 'manual';
}

export class NotificationPayoutJob {
  @IsUUID()
  payoutId!: string;

  @IsIn(['paid', 'failed'])
  outcome!: 'paid' | 'failed';
}

export class ExportPayoutsJob {
  @IsUUID()
  exportId!: string;
}
