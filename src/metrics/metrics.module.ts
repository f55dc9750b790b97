import { Global, Module } from '@nestjs/common';
import { MetricsRegistry } from './metrics.registry';
import { PoolGauges } from './pool-gauges';
import { ProviderMetrics } from './provider-metrics';
import { ThroughputStore } from './throughput.store';

/**
 * What every role has: the registry, the throughput store, this process's PostgreSQL pool gauges
 * and the payment-provider call metrics (injected by whatever calls the provider).
 */
@Global()
@Module({
  providers: [MetricsRegistry, ThroughputStore, PoolGauges, ProviderMetrics],
  exports: [MetricsRegistry, ThroughputStore, ProviderMetrics],
})
export class MetricsModule {}
