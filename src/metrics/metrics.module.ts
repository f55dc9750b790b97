import { Global, Module } from '@nestjs/common';
import { MetricsRegistry } from './metrics.registry';
import { ThroughputStore } from './throughput.store';

/** The registry and the throughput store, shared by the HTTP and worker sides of one process. */
@Global()
@Module({
  providers: [MetricsRegistry, ThroughputStore],
  exports: [MetricsRegistry, ThroughputStore],
})
export class MetricsModule {}
