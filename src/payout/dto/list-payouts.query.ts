import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, Matches, Max, Min } from 'class-validator';
import { PayoutStatus } from '../../database';

export const PAYOUT_STATUSES: readonly PayoutStatus[] = [
  'pending',
  'processing',
  'paid',
  'failed',
  'cancelled',
];

/** GET /payouts?status=&payeeId=&from=&to=&cursor=&limit= */
export class ListPayoutsQuery {
  @ApiPropertyOptional({ enum: PAYOUT_STATUSES })
  @IsOptional()
  @IsIn(PAYOUT_STATUSES, { message: `status must be one of ${PAYOUT_STATUSES.join(', ')}` })
  status?: PayoutStatus;

  @ApiPropertyOptional({ type: 'integer', minimum: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  payeeId?: number;

  /** Created at or after this instant (ISO 8601). */
  @ApiPropertyOptional({ format: 'date-time', description: 'Created at or after this instant' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  /** Created before this instant (ISO 8601). */
  @ApiPropertyOptional({ format: 'date-time', description: 'Created before this instant' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  /** `nextCursor` of the previous page. */
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, {
    message: 'cursor must be a nextCursor from a previous page',
  })
  cursor?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit: number = 50;
}
