import { Controller, Get, Param, UseInterceptors } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../http/route-group.decorator';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { CorrelationTrailView } from './dto/job.views';
import { CorrelationParams } from './dto/route-params.dto';
import { QueueApiTimeoutInterceptor } from './queue-api-timeout.interceptor';
import { QueueJobsService } from './queue-jobs.service';

@ApiTags('queues')
@UseInterceptors(QueueApiTimeoutInterceptor)
@Controller('jobs')
export class JobsByCorrelationController {
  constructor(private readonly jobs: QueueJobsService) {}

  @Authenticated()
  @Get('by-correlation/:correlationId')
  @ApiOperation({
    summary: "One request's trail: every job, in every queue, that carries its correlation ID",
    description: 'A bounded scan of the newest jobs kept in Redis (see `truncated`).',
  })
  @ApiOkResponse({ type: CorrelationTrailView })
  @ApiErrors(400)
  trail(@Param() params: CorrelationParams): Promise<CorrelationTrailView> {
    return this.jobs.byCorrelation(params.correlationId);
  }
}
