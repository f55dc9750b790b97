import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  UseInterceptors,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator';
import { Admin, Authenticated } from '../http/route-group.decorator';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { JobActionView, JobDetailView, JobPageView } from './dto/job.views';
import { ListJobsQuery } from './dto/list-jobs.query';
import { JobParams, QueueParams } from './dto/route-params.dto';
import { QueueAdminService } from './queue-admin.service';
import { QueueApiTimeoutInterceptor } from './queue-api-timeout.interceptor';
import { QueueJobsService } from './queue-jobs.service';

@ApiTags('queues')
@UseInterceptors(QueueApiTimeoutInterceptor)
@Controller('queues/:name/jobs')
export class QueueJobsController {
  constructor(
    private readonly jobs: QueueJobsService,
    private readonly admin: QueueAdminService,
  ) {}

  @Authenticated()
  @Get()
  @ApiOperation({
    summary: 'Jobs in one state, newest first, a page at a time; optionally one job name',
  })
  @ApiOkResponse({ type: JobPageView })
  @ApiErrors(400, 404)
  list(@Param() params: QueueParams, @Query() query: ListJobsQuery): Promise<JobPageView> {
    return this.jobs.list(params.name, query);
  }

  @Authenticated()
  @Get(':id')
  @ApiOperation({
    summary: 'One job in full: data (secrets redacted), options, errors, logs, result',
  })
  @ApiOkResponse({ type: JobDetailView })
  @ApiErrors(400, 404)
  detail(@Param() params: JobParams): Promise<JobDetailView> {
    return this.jobs.detail(params.name, params.id);
  }

  @Admin()
  @Post(':id/retry')
  @HttpCode(200)
  @Audited('job.retry')
  @ApiOperation({ summary: 'Run a failed job again' })
  @ApiOkResponse({ type: JobActionView })
  @ApiErrors(400, 404, 409)
  retry(@Param() params: JobParams): Promise<JobActionView> {
    return this.admin.retryJob(params.name, params.id);
  }

  @Admin()
  @Post(':id/promote')
  @HttpCode(200)
  @Audited('job.promote')
  @ApiOperation({ summary: 'Run a delayed job now' })
  @ApiOkResponse({ type: JobActionView })
  @ApiErrors(400, 404, 409)
  promote(@Param() params: JobParams): Promise<JobActionView> {
    return this.admin.promoteJob(params.name, params.id);
  }

  @Admin()
  @Delete(':id')
  @Audited('job.remove')
  @ApiOperation({ summary: 'Delete a job (refused with 409 while a worker runs it)' })
  @ApiOkResponse({ type: JobActionView })
  @ApiErrors(400, 404, 409)
  remove(@Param() params: JobParams): Promise<JobActionView> {
    return this.admin.removeJob(params.name, params.id);
  }
}
