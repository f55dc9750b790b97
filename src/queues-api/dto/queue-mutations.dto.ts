import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

export const MAX_BULK_RETRY = 1_000;
export const MAX_CLEAN = 10_000;
const YEAR_MS = 365 * 86_400_000;

export class RetryFailedDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_BULK_RETRY,
    default: 100,
    description: 'Retry at most this many failed jobs (the newest first); call again for more',
  })
  @IsOptional()
  @IsInt({ message: `limit must be a whole number from 1 to ${MAX_BULK_RETRY}` })
  @Min(1, { message: `limit must be a whole number from 1 to ${MAX_BULK_RETRY}` })
  @Max(MAX_BULK_RETRY, { message: `limit must be a whole number from 1 to ${MAX_BULK_RETRY}` })
  limit: number = 100;
}

export const CLEANABLE_STATES = ['completed', 'failed', 'delayed', 'waiting', 'paused'] as const;
export type CleanableState = (typeof CLEANABLE_STATES)[number];

export class CleanQueueDto {
  @ApiProperty({
    enum: CLEANABLE_STATES,
    description: 'Which jobs to remove (active jobs are never cleaned: a worker holds them)',
  })
  @IsIn(CLEANABLE_STATES, { message: `state must be one of ${CLEANABLE_STATES.join(', ')}` })
  state!: CleanableState;

  @ApiProperty({
    minimum: 0,
    description: 'Only jobs older than this many milliseconds',
    example: 3_600_000,
  })
  @IsInt({ message: 'graceMs must be a whole number of milliseconds, at least 0' })
  @Min(0, { message: 'graceMs must be a whole number of milliseconds, at least 0' })
  @Max(YEAR_MS, { message: `graceMs must be at most ${YEAR_MS} (a year)` })
  graceMs!: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_CLEAN, default: 1_000 })
  @IsOptional()
  @IsInt({ message: `limit must be a whole number from 1 to ${MAX_CLEAN}` })
  @Min(1, { message: `limit must be a whole number from 1 to ${MAX_CLEAN}` })
  @Max(MAX_CLEAN, { message: `limit must be a whole number from 1 to ${MAX_CLEAN}` })
  limit: number = 1_000;
}
