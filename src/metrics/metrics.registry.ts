import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

const GAUGES_NAMED_LIKE_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * One prom-client registry per application (not prom-client's global one), so two apps in one
 * process (tests) never collide. Default process metrics (CPU, memory, event loop, GC) are on
 * from the start; each feature registers its own metrics into it.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters, which `promtool check metrics` rejects; the same numbers are
    // in nodejs_active_handles / _requests / _resources by type (sum them for the total).
    for (const name of GAUGES_NAMED_LIKE_COUNTERS) this.registry.removeSingleMetric(name);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; queue gauges are read from Redis while it is built. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
