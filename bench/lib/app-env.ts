/**
 * Extra settings for the project's processes, for "what if" runs: every BENCH_APP_<NAME>=value
 * in the orchestrator's environment reaches the project side as <NAME>=value (for example
 * BENCH_APP_LOG_LEVEL=warn, BENCH_APP_ENABLE_CORRELATION_IDS=false). Baselines never get them.
 */
export function appOverrides(): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('BENCH_APP_') && value !== undefined) overrides[name.slice(10)] = value;
  }
  return overrides;
}
