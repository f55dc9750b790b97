export { startTracing, stopTracing } from './start-tracing';
export { traceEnqueue, traceJobRun } from './job-spans';
export type { JobRunIdentity, TraceCarrier } from './job-spans';
