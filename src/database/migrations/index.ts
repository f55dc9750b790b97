import { Migration } from 'kysely';
import * as m0001 from './0001_users_and_audit';
import * as m0002 from './0002_payouts';
import * as m0003 from './0003_payout_processing';
import * as m0004 from './0004_schedule_runs';
import * as m0005 from './0005_payout_creator_job';
import * as m0006 from './0006_payout_lease';
import * as m0007 from './0007_user_session_control';
import * as m0008 from './0008_notification_lease';
import * as m0009 from './0009_export_run_token';

/** Ordered by name; never edit an applied migration: add the next one. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_users_and_audit': m0001,
  '0002_payouts': m0002,
  '0003_payout_processing': m0003,
  '0004_schedule_runs': m0004,
  '0005_payout_creator_job': m0005,
  '0006_payout_lease': m0006,
  '0007_user_session_control': m0007,
  '0008_notification_lease': m0008,
  '0009_export_run_token': m0009,
};
