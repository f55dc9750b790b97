import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { QUEUE_NAMES } from '../../queue';

export class ThroughputWindowView {
  @ApiProperty({ description: 'Jobs completed in the window (sliding-window estimate)' })
  completed!: number;

  @ApiProperty({ description: 'Jobs failed for good in the window' })
  failed!: number;

  @ApiProperty({ type: Number, nullable: true, description: 'failed / (completed + failed)' })
  failureRate!: number | null;
}

export class ThroughputView {
  @ApiProperty({ type: ThroughputWindowView })
  lastMinute!: ThroughputWindowView;

  @ApiProperty({ type: ThroughputWindowView })
  lastHour!: ThroughputWindowView;
}

export class JobCountsView {
  @ApiProperty() waiting!: number;
  @ApiProperty() active!: number;
  @ApiProperty() completed!: number;
  @ApiProperty() failed!: number;
  @ApiProperty() delayed!: number;
  @ApiProperty() paused!: number;
}

export class QueueSummaryView {
  @ApiProperty({ enum: QUEUE_NAMES })
  name!: string;

  @ApiProperty({ type: JobCountsView })
  counts!: JobCountsView;

  @ApiProperty({ description: 'Paused globally (no worker takes new jobs)' })
  paused!: boolean;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Worker connections attached (CLIENT LIST); null when Redis refuses CLIENT LIST',
  })
  workers!: number | null;

  @ApiProperty({ type: ThroughputView })
  throughput!: ThroughputView;
}

export class QueueListView {
  @ApiProperty({ type: [QueueSummaryView] })
  queues!: QueueSummaryView[];
}

export class QueueDetailView extends QueueSummaryView {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Default options of every job',
  })
  defaultJobOptions!: Record<string, unknown>;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Per job name: the options that override the defaults',
  })
  jobOptions!: Record<string, unknown>;

  @ApiProperty({ type: Number, nullable: true, description: 'Age of the oldest waiting job, ms' })
  oldestWaitingAgeMs!: number | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  oldestWaitingJobId!: string | null;
}

export class RetryFailedView {
  @ApiProperty({ enum: QUEUE_NAMES }) queue!: string;
  @ApiProperty({ description: 'Failed jobs moved back to waiting' }) retried!: number;
  @ApiProperty({ description: 'Failed jobs left (call again to retry more)' })
  failedRemaining!: number;
}

export class PauseView {
  @ApiProperty({ enum: QUEUE_NAMES }) queue!: string;
  @ApiProperty() paused!: boolean;
}

export class CleanView {
  @ApiProperty({ enum: QUEUE_NAMES }) queue!: string;
  @ApiProperty() state!: string;
  @ApiProperty({ description: 'Jobs removed' }) removed!: number;
}

export class ErrorView {
  @ApiProperty({ example: 404 }) statusCode!: number;
  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: 'Unknown queue "payoutz": use one of payouts, analytics, notifications, exports',
  })
  message!: string | string[];
  @ApiPropertyOptional({ example: 'Not Found' }) error?: string;
}
