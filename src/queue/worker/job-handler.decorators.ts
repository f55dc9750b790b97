import { SetMetadata } from '@nestjs/common';
import { JobName, QueueName } from '../queue-names';

export const QUEUE_PROCESSOR = Symbol('queue-processor');
export const JOB_HANDLER = Symbol('job-handler');

/** Marks a provider whose @JobHandler methods process jobs of this queue. */
export const QueueProcessor = (queue: QueueName): ClassDecorator =>
  SetMetadata(QUEUE_PROCESSOR, queue);

/** Marks the method that handles one job name; exactly one per job name, checked at boot. */
export const JobHandler = (name: JobName): MethodDecorator => SetMetadata(JOB_HANDLER, name);
