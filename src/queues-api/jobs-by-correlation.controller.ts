import { Controller, Get, Param, Query, UseInterceptors } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Operator } from '../http/route-group.decorator';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { CorrelationTrailView } from './dto/job.views';
import { CorrelationParams } from './dto/route-params.dto';
import { TrailQuery } from './dto/trail.query';
import { CorrelationTrailService } from './correlation-trail.service';
import { QueueApiTimeoutInterceptor } from './queue-api-timeout.interceptor';

@ApiTags('queues')
@UseInterceptors(QueueApiTimeoutInterceptor)
@Controller('jobs')
export class JobsByCorrelationController {
  constructor(private readonly trail: CorrelationTrailService) {}

  // Operators and admins: a trail crosses requests and queues (a payout cycle lists every
  // payee's job), which is more than the monitoring views a viewer gets.
  @Operator()
  @Get('by-correlation/:correlationId')
  @ApiOperation({
    summary: "One request's trail: every job, in every queue, that carries its correlation ID",
    description:
      'Read from the correlation index written with each job, a page at a time (oldest first). ' +
      'Jobs already trimmed by their retention are skipped and counted in `missing`.',
  })
  @ApiOkResponse({ type: CorrelationTrailView })
  @ApiErrors(400)
  trailOf(
    @Param() params: CorrelationParams,
    @Query() query: TrailQuery,
  ): Promise<CorrelationTrailView> {
    return this.trail.page(params.correlationId, query.cursor, query.limit);
  }
}
