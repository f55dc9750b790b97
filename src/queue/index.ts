export * from './queue-names';
export * from './job-contracts';
export * from './job-payloads';
export * from './job-states';
export { JobProducer, EnqueueOptions } from './queue.producer';
export { QueueModule } from './queue.module';
export { QueueProcessor, JobHandler } from './worker/job-handler.decorators';
export { PermanentJobError } from './worker/permanent-job-error';
export { QueueWorkerModule } from './worker/queue-worker.module';
