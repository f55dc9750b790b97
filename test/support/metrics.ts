/** Samples of one metric in Prometheus text format whose labels include the given ones. */
export function metricSamples(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): Array<{ labels: Record<string, string>; value: number }> {
  const samples: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      found[pair[1]] = pair[2];
    }
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) {
      samples.push({ labels: found, value: Number(match[3]) });
    }
  }
  return samples;
}

/** The sum of the matching samples (0 when there are none yet). */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  return metricSamples(text, name, labels).reduce((sum, sample) => sum + sample.value, 0);
}
