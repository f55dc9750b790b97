import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { JOB_STATES, QUEUE_NAMES } from '../../queue';

export class JobRowView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: QUEUE_NAMES }) queue!: string;
  @ApiProperty({ example: 'payout.process' }) name!: string;
  @ApiProperty({ enum: [...JOB_STATES, 'unknown'] }) state!: string;
  @ApiProperty() attemptsMade!: number;
  @ApiProperty({ description: 'Attempts allowed' }) attempts!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) processedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Delayed jobs: when due',
  })
  delayedUntil!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'First line of the failure reason' })
  failedReason!: string | null;
  @ApiProperty({ type: String, nullable: true }) correlationId!: string | null;
}

export class JobPageView {
  @ApiProperty({ type: [JobRowView] }) jobs!: JobRowView[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as cursor for the next page; null at the end',
  })
  nextCursor!: string | null;
}

export class JobDetailView extends JobRowView {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Job data, secrets redacted',
  })
  data!: unknown;
  @ApiProperty({ type: 'object', additionalProperties: true }) options!: Record<string, unknown>;
  @ApiProperty({ oneOf: [{ type: 'number' }, { type: 'object' }] }) progress!: unknown;
  @ApiPropertyOptional({ description: 'Return value of a completed job' }) returnValue!: unknown;
  @ApiProperty({ type: String, nullable: true, description: 'The whole failure reason' })
  failedReasonFull!: string | null;
  @ApiProperty({ type: [String], description: 'Stack trace of each failed attempt' })
  stacktrace!: string[];
  @ApiProperty({ type: [String], description: 'Lines the job logged with job.log()' })
  logs!: string[];
}

export class CorrelationTrailView {
  @ApiProperty() correlationId!: string;
  @ApiProperty({
    type: [JobRowView],
    description: 'Oldest first (by enqueue time), at most `limit` per page',
  })
  jobs!: JobRowView[];
  @ApiProperty({
    description:
      'Index entries of this page whose job is no longer in Redis (trimmed by its retention or removed): skipped',
  })
  missing!: number;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as cursor for the next page; null at the end of the trail',
  })
  nextCursor!: string | null;
}

export class JobActionView {
  @ApiProperty({ enum: QUEUE_NAMES }) queue!: string;
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'State after the action', example: 'waiting' }) state!: string;
}
