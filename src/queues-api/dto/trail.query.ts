import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

export const MAX_TRAIL_PAGE = 500;
const LIMIT_MESSAGE = `limit must be a whole number from 1 to ${MAX_TRAIL_PAGE}`;

export class TrailQuery {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,60}$/, {
    message: 'cursor is malformed: pass the nextCursor of the previous page unchanged',
  })
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_TRAIL_PAGE, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: LIMIT_MESSAGE })
  @Min(1, { message: LIMIT_MESSAGE })
  @Max(MAX_TRAIL_PAGE, { message: LIMIT_MESSAGE })
  limit: number = 100;
}
