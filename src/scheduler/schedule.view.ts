import { ApiProperty } from '@nestjs/swagger';
import type { ScheduleRun } from '../database';
import { JobName, QueueName, QUEUE_NAMES, ScheduleTrigger } from '../queue';
import type { SchedulerMode } from './scheduler-state';

const MODES = ['distributed', 'legacy'];

export class ScheduleRunView {
  @ApiProperty({ description: 'The tick this run stands for' })
  tickAt!: string;

  @ApiProperty({ enum: ['schedule', 'catch-up', 'manual'] })
  trigger!: ScheduleTrigger;

  @ApiProperty({ enum: ['running', 'succeeded', 'failed'] })
  status!: ScheduleRun['status'];

  @ApiProperty({ enum: ['queue', 'inline'], description: 'inline: legacy mode, in-process' })
  runner!: ScheduleRun['runner'];

  @ApiProperty({ type: String, nullable: true, description: 'The Bull job (null for inline)' })
  jobId!: string | null;

  @ApiProperty({ description: 'host:pid of the process that ran it' })
  instance!: string;

  @ApiProperty()
  attempts!: number;

  @ApiProperty({ description: 'Attempts at this tick refused because it had already run' })
  duplicates!: number;

  @ApiProperty()
  startedAt!: string;

  @ApiProperty({ type: String, nullable: true })
  finishedAt!: string | null;

  @ApiProperty({ type: String, nullable: true })
  error!: string | null;
}

export class ScheduleView {
  @ApiProperty()
  name!: string;

  @ApiProperty()
  description!: string;

  @ApiProperty({
    enum: MODES,
    nullable: true,
    description: 'The mode the workers last started in (null before any worker reported)',
  })
  mode!: SchedulerMode | null;

  @ApiProperty({ enum: QUEUE_NAMES })
  queue!: QueueName;

  @ApiProperty({ enum: Object.values(JobName) })
  job!: JobName;

  @ApiProperty({ type: String, nullable: true, description: 'Cron expression (null: interval)' })
  cron!: string | null;

  @ApiProperty({ type: String, nullable: true })
  timeZone!: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Interval in ms (null: cron)' })
  everyMs!: number | null;

  @ApiProperty()
  enabled!: boolean;

  @ApiProperty()
  catchUp!: boolean;

  @ApiProperty({
    type: Boolean,
    nullable: true,
    description: "Distributed mode: whether its next tick's job is in Redis (null otherwise)",
  })
  registered!: boolean | null;

  @ApiProperty({ type: String, nullable: true })
  nextRunAt!: string | null;

  @ApiProperty({ type: ScheduleRunView, nullable: true })
  lastRun!: ScheduleRunView | null;
}

export class SchedulesView {
  @ApiProperty({ enum: MODES, nullable: true })
  mode!: SchedulerMode | null;

  @ApiProperty({ type: String, nullable: true })
  modeReportedBy!: string | null;

  @ApiProperty({ type: String, nullable: true })
  modeReportedAt!: string | null;

  @ApiProperty({ type: [ScheduleView] })
  schedules!: ScheduleView[];
}

export class ManualRunView {
  @ApiProperty({ description: 'The job that will run the schedule' })
  jobId!: string;

  @ApiProperty()
  schedule!: string;

  @ApiProperty({ enum: QUEUE_NAMES })
  queue!: QueueName;

  @ApiProperty({ enum: Object.values(JobName) })
  job!: JobName;

  @ApiProperty({ description: "The run's tick: the moment it was asked for" })
  tickAt!: string;
}

export function toRunView(run: ScheduleRun): ScheduleRunView {
  return {
    tickAt: run.tick_at.toISOString(),
    trigger: run.trigger,
    status: run.status,
    runner: run.runner,
    jobId: run.job_id,
    instance: run.instance,
    attempts: run.attempts,
    duplicates: run.duplicates,
    startedAt: run.started_at.toISOString(),
    finishedAt: run.finished_at?.toISOString() ?? null,
    error: run.error,
  };
}
