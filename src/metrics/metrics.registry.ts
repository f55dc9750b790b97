import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

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
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; queue gauges are read from Redis while it is built. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
