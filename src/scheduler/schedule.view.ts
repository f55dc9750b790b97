import type { ScheduleRun } from '../database';
import type { JobName, QueueName, ScheduleTrigger } from '../queue';
import type { SchedulerMode } from './scheduler-state';

export interface ScheduleRunView {
  tickAt: string;
  trigger: ScheduleTrigger;
  status: ScheduleRun['status'];
  runner: ScheduleRun['runner'];
  jobId: string | null;
  instance: string;
  attempts: number;
  /** Attempts at this tick that were refused because it had already run. */
  duplicates: number;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

export interface ScheduleView {
  name: string;
  description: string;
  /** The mode the workers last started in (null when no worker has reported yet). */
  mode: SchedulerMode | null;
  queue: QueueName;
  job: JobName;
  cron: string | null;
  timeZone: string | null;
  everyMs: number | null;
  enabled: boolean;
  catchUp: boolean;
  /** Distributed mode: whether the repeatable job is in Redis (null in legacy mode). */
  registered: boolean | null;
  nextRunAt: string | null;
  lastRun: ScheduleRunView | null;
}

export interface SchedulesView {
  mode: SchedulerMode | null;
  modeReportedBy: string | null;
  modeReportedAt: string | null;
  schedules: ScheduleView[];
}

export interface ManualRunView {
  jobId: string;
  schedule: string;
  queue: QueueName;
  job: JobName;
  tickAt: string;
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
