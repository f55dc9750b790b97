import { ClsStore } from 'nestjs-cls';

export interface JobContext {
  queue: string;
  jobName: string;
  jobId: string;
  attempt: number;
}

/** What a CLS context carries: set for each request and each job. */
export interface CorrelationStore extends ClsStore {
  correlationId?: string;
  /** What started this unit of work (see JobMeta.origin). */
  origin?: string;
  job?: JobContext;
}

export const CORRELATION_HEADER = 'x-correlation-id';
export const REQUEST_ID_HEADER = 'x-request-id';

/** Printable, short, and safe to echo in a header or a log line. */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function isSafeCorrelationId(value: unknown): value is string {
  return typeof value === 'string' && SAFE_ID.test(value);
}
