import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { Audited } from '../audit/audited.decorator';
import { Admin, Authenticated } from '../http/route-group.decorator';
import { ApiErrors } from '../openapi/api-errors.decorator';
import { ErrorView } from '../queues-api/dto/queue.views';
import { ManualRunView, SchedulesView } from './schedule.view';
import { SchedulesService } from './schedules.service';

export class ScheduleNameParams {
  @Matches(/^[a-z0-9-]{1,64}$/, {
    message: 'name must be a schedule name (lowercase letters, digits, -)',
  })
  name!: string;
}

@ApiTags('schedules')
@Controller('schedules')
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  @Authenticated()
  @Get()
  @ApiOperation({
    summary:
      'Every schedule: mode, cron or interval, time zone, next run, last run and its outcome',
  })
  @ApiOkResponse({ type: SchedulesView })
  list(): Promise<SchedulesView> {
    return this.schedules.list();
  }

  @Admin()
  @Post(':name/run')
  @HttpCode(202)
  @Audited('schedule.run')
  @ApiOperation({ summary: 'Run a schedule now: enqueues its job, answers with the job ID' })
  @ApiParam({ name: 'name', description: 'Schedule name (GET /schedules lists them)' })
  @ApiAcceptedResponse({ type: ManualRunView })
  @ApiErrors(400)
  @ApiResponse({ status: 404, description: 'No such schedule', type: ErrorView })
  run(@Param() params: ScheduleNameParams): Promise<ManualRunView> {
    return this.schedules.runNow(params.name);
  }
}
