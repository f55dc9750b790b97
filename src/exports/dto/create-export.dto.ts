import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsISO8601, IsOptional, Min } from 'class-validator';
import { PayoutStatus } from '../../database';
import { PAYOUT_STATUSES } from '../../payout/dto/list-payouts.query';

/** POST /exports: which payouts go into the CSV. Every filter is optional. */
export class CreateExportDto {
  /** Payouts created at or after this instant (ISO 8601). */
  @ApiPropertyOptional({ format: 'date-time', description: 'Created at or after this instant' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  /** Payouts created before this instant (ISO 8601). */
  @ApiPropertyOptional({ format: 'date-time', description: 'Created before this instant' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ enum: PAYOUT_STATUSES })
  @IsOptional()
  @IsIn(PAYOUT_STATUSES, { message: `status must be one of ${PAYOUT_STATUSES.join(', ')}` })
  status?: PayoutStatus;

  @ApiPropertyOptional({ type: 'integer', minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  payeeId?: number;
}
