import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { Matches } from 'class-validator';
import { Admin, Authenticated } from '../http/route-group.decorator';
import { ManualRunView, SchedulesView } from './schedule.view';
import { SchedulesService } from './schedules.service';

export class ScheduleNameParams {
  @Matches(/^[a-z0-9-]{1,64}$/, {
    message: 'name must be a schedule name (lowercase letters, digits, -)',
  })
  name!: string;
}

@Controller('schedules')
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  /** Every schedule with its mode, timing, next run and last run (and how it ended). */
  @Authenticated()
  @Get()
  list(): Promise<SchedulesView> {
    return this.schedules.list();
  }

  /** Runs a schedule now: 202 with the ID of the job that will run it. */
  @Admin()
  @Post(':name/run')
  @HttpCode(202)
  run(@Param() params: ScheduleNameParams): Promise<ManualRunView> {
    return this.schedules.runNow(params.name);
  }
}
