import { Injectable, Logger } from '@nestjs/common';
import { ScheduleRunRepository, TickRun } from './schedule-run.repository';

export type TickOutcome = { ran: true; result: unknown } | { ran: false; reason: string };

/**
 * The scheduler's own wrapper around a schedule's task, in both modes: claims the tick in
 * schedule_runs (UNIQUE schedule + tick), runs the task, records its outcome. A tick already
 * claimed by another run is refused, logged as a warning and counted on its row: a double run
 * never happens silently, and never happens twice over.
 */
@Injectable()
export class TickRunner {
  private readonly logger = new Logger('Scheduler');

  constructor(private readonly runs: ScheduleRunRepository) {}

  async run(run: TickRun, task: () => Promise<unknown>): Promise<TickOutcome> {
    const label = `${run.trigger} run of "${run.schedule}" for tick ${new Date(run.tickAt).toISOString()}`;
    const claim = await this.runs.claim(run);
    if (!claim.claimed) {
      const { holder } = claim;
      const by = holder.job_id ? `job ${holder.job_id}` : 'an in-process run';
      const reason = `tick already claimed by ${by} on ${holder.instance} (${holder.status})`;
      this.logger.warn(
        `Duplicate ${label} refused (${run.jobId ? `job ${run.jobId}` : 'in-process'}): ${reason}; ` +
          `${holder.duplicates} duplicate(s) of this tick so far. Expected only while instances run ` +
          'in different scheduler modes; otherwise report it.',
      );
      return { ran: false, reason };
    }
    if (claim.attempt > 1) this.logger.log(`Attempt ${claim.attempt} of the ${label}`);
    try {
      const result = await task();
      await this.runs.finish(claim.id, {});
      this.logger.debug(`Finished the ${label}`);
      return { ran: true, result };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.runs
        .finish(claim.id, { error: message.slice(0, 2_000) })
        .catch((recordError: Error) =>
          this.logger.error(`Could not record the failure of the ${label}: ${recordError.message}`),
        );
      throw error;
    }
  }
}
