import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { QUEUE_NAMES } from '../../queue';

/** Bull job IDs: counters (`42`), our own IDs (UUIDs) and schedule ticks (`tick:<schedule>:<ms>`). */
export const JOB_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,200}$/;
export const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export class QueueParams {
  @ApiProperty({ enum: QUEUE_NAMES, description: 'Queue name (404 when it is not one of these)' })
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, {
    message: 'name must be a queue name: letters, digits, ".", "_" or "-", at most 64 characters',
  })
  name!: string;
}

export class JobParams extends QueueParams {
  @ApiProperty({ description: 'Bull job ID', example: '42' })
  @Matches(JOB_ID_PATTERN, {
    message:
      'id must be a job ID: letters, digits, ".", "_", ":", "@" or "-", at most 200 characters',
  })
  id!: string;
}

export class CorrelationParams {
  @ApiProperty({
    description: 'Correlation ID (X-Correlation-Id of the request that started the work)',
  })
  @Matches(CORRELATION_ID_PATTERN, {
    message: 'correlationId must be 1-128 letters, digits, ".", "_", ":" or "-"',
  })
  correlationId!: string;
}
