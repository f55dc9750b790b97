import { Body, Controller, Get, HttpCode, Param, Post, UseInterceptors } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator';
import { Admin, Authenticated } from '../http/route-group.decorator';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { QueueParams } from './dto/route-params.dto';
import { CleanQueueDto, RetryFailedDto } from './dto/queue-mutations.dto';
import {
  CleanView,
  PauseView,
  QueueDetailView,
  QueueListView,
  RetryFailedView,
} from './dto/queue.views';
import { QueueAdminService } from './queue-admin.service';
import { QueueApiTimeoutInterceptor } from './queue-api-timeout.interceptor';
import { QueueStatsService } from './queue-stats.service';

@ApiTags('queues')
@UseInterceptors(QueueApiTimeoutInterceptor)
@Controller('queues')
export class QueuesController {
  constructor(
    private readonly stats: QueueStatsService,
    private readonly admin: QueueAdminService,
  ) {}

  @Authenticated()
  @Get()
  @ApiOperation({ summary: 'Every queue: counts by state, paused, workers, throughput' })
  @ApiOkResponse({ type: QueueListView })
  async list(): Promise<QueueListView> {
    return { queues: await this.stats.summaries() };
  }

  @Authenticated()
  @Get(':name')
  @ApiOperation({
    summary: 'One queue, with its job options and the age of its oldest waiting job',
  })
  @ApiOkResponse({ type: QueueDetailView })
  @ApiErrors(400, 404)
  detail(@Param() params: QueueParams): Promise<QueueDetailView> {
    return this.stats.detail(params.name);
  }

  @Admin()
  @Post(':name/retry-failed')
  @HttpCode(200)
  @Audited('queue.retry-failed')
  @ApiOperation({ summary: 'Retry failed jobs, at most `limit` per call (newest first)' })
  @ApiOkResponse({ type: RetryFailedView })
  @ApiErrors(400, 404)
  retryFailed(
    @Param() params: QueueParams,
    @Body() body: RetryFailedDto,
  ): Promise<RetryFailedView> {
    return this.admin.retryFailed(params.name, body.limit);
  }

  @Admin()
  @Post(':name/pause')
  @HttpCode(200)
  @Audited('queue.pause')
  @ApiOperation({ summary: 'Pause globally: no worker process takes new jobs; active jobs finish' })
  @ApiOkResponse({ type: PauseView })
  @ApiErrors(400, 404)
  pause(@Param() params: QueueParams): Promise<PauseView> {
    return this.admin.pause(params.name);
  }

  @Admin()
  @Post(':name/resume')
  @HttpCode(200)
  @Audited('queue.resume')
  @ApiOperation({ summary: 'Resume a paused queue on every worker process' })
  @ApiOkResponse({ type: PauseView })
  @ApiErrors(400, 404)
  resume(@Param() params: QueueParams): Promise<PauseView> {
    return this.admin.resume(params.name);
  }

  @Admin()
  @Post(':name/clean')
  @HttpCode(200)
  @Audited('queue.clean')
  @ApiOperation({
    summary: 'Remove jobs of one state older than a grace period (bounded by limit)',
  })
  @ApiOkResponse({ type: CleanView })
  @ApiErrors(400, 404)
  clean(@Param() params: QueueParams, @Body() body: CleanQueueDto): Promise<CleanView> {
    return this.admin.clean(params.name, body.state, body.graceMs, body.limit);
  }
}
