/** The states a Bull job can be in, as Bull's getJobCounts() and getJobs() name them. */
export const JOB_STATES = [
  'waiting',
  'active',
  'completed',
  'failed',
  'delayed',
  'paused',
] as const;
export type JobState = (typeof JOB_STATES)[number];
