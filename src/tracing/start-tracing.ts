import type { AppConfig } from '../config';
import { enableJobSpans } from './job-spans';

/** The SDK's provider while tracing is on (only its shutdown is needed here). */
let provider: { shutdown(): Promise<void> } | undefined;

/**
 * Starts OpenTelemetry when OTEL_EXPORTER_OTLP_ENDPOINT is set. Entry points call it before they
 * import the application, so the instrumentations patch http, express, pg and ioredis as those
 * load. When it is not set, neither the SDK nor any instrumentation is loaded, and the job
 * wrappers (job-spans.ts) call straight through; anything else asking the OpenTelemetry API for a
 * span gets its no-op tracer.
 */
export async function startTracing(config: AppConfig): Promise<void> {
  if (!config.tracing || provider) return;
  const { registerTracingSdk } = await import('./tracing-sdk');
  provider = registerTracingSdk(config.tracing);
  enableJobSpans();
}

/** Exports the spans still buffered; called last at shutdown. Never throws. */
export async function stopTracing(): Promise<void> {
  const current = provider;
  provider = undefined;
  await current?.shutdown().catch(() => undefined);
}

/** Tracing or the application failed to load: one line, and a non-zero exit. */
export function exitOnStartFailure(error: Error): never {
  process.stderr.write(`Start-up failed: ${error.message}\n`);
  process.exit(1);
}
