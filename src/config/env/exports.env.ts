import { EnvDuration } from './decorators';

/** CSV exports (stored in PostgreSQL, see docs/payouts.md). */
export class ExportsEnv {
  /** Finished exports (and their CSV content) older than this are deleted. */
  @EnvDuration(60_000)
  EXPORT_RETENTION = 604_800_000;
}
