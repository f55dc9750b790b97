import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { AppConfig } from '../config';
import { PAYMENT_PROVIDERS } from '../config/env/payouts.env';
import { MetricsRegistry } from './metrics.registry';

/**
 * How a call to the payment provider ended:
 *   paid         the provider confirmed the transfer;
 *   declined     refused for good (the payout fails, the balance is given back);
 *   transient    a retryable error (network, 5xx) with no transfer;
 *   rate_limited the provider asked us to slow down (429);
 *   unknown      no answer we can trust (timeout after sending): money may have moved.
 */
export const PROVIDER_OUTCOMES = [
  'paid',
  'declined',
  'transient',
  'rate_limited',
  'unknown',
] as const;
export type ProviderOutcome = (typeof PROVIDER_OUTCOMES)[number];

/** Seconds: a fast provider answers in tens of milliseconds; the slowest time out near 30 s. */
const CALL_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Payment provider calls, counted by the code that calls the provider (`record` once per call).
 * Every provider/outcome series exists from the start at zero, so the alert rules' rates and the
 * dashboard have a series before the first call, and a missing series means a missing exporter.
 * Per process: Prometheus sums them across the processes it scrapes.
 */
@Injectable()
export class ProviderMetrics {
  private readonly calls: Counter<'provider' | 'outcome'>;
  private readonly duration: Histogram<'provider'>;

  constructor(metrics: MetricsRegistry, config: AppConfig) {
    const registers = [metrics.registry];
    this.calls = new Counter({
      name: 'payouts_provider_calls_total',
      help: 'Calls to the payment provider by outcome (paid, declined, transient, rate_limited, unknown)',
      labelNames: ['provider', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'payouts_provider_call_duration_seconds',
      help: 'Time from sending a call to the payment provider to its answer (or giving up)',
      labelNames: ['provider'],
      buckets: CALL_BUCKETS,
      registers,
    });
    const providers = new Set<string>([...PAYMENT_PROVIDERS, config.payouts.provider.kind]);
    for (const provider of providers) {
      for (const outcome of PROVIDER_OUTCOMES) this.calls.labels({ provider, outcome }).inc(0);
      this.duration.zero({ provider });
    }
  }

  /** One finished provider call: its outcome and how long it took, in seconds. */
  record(provider: string, outcome: ProviderOutcome, seconds: number): void {
    this.calls.inc({ provider, outcome });
    this.duration.observe({ provider }, seconds);
  }
}
