import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CorruptJobGuard } from './corrupt-job.guard';
import { JobDispatcher } from './job-dispatcher';

/** Imported only by the roles that process jobs (see AppModule.forRole). */
@Module({
  imports: [DiscoveryModule],
  providers: [CorruptJobGuard, JobDispatcher],
  exports: [JobDispatcher],
})
export class QueueWorkerModule {}
