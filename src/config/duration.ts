import ms from 'ms';

/** Matches "1500" (milliseconds) or a number with a unit: 30s, 15m, 2h, 7d, 250ms. */
const DURATION = /^\s*\d+(\.\d+)?\s*(ms|s|m|h|d|w)?\s*$/i;

/**
 * Parses a duration written with a unit (`30s`, `15m`, `7d`) or as plain milliseconds.
 * Returns undefined for anything else, so the validator can report the variable by name.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || !DURATION.test(value)) return undefined;
  const trimmed = value.trim();
  const parsed = /^\d+$/.test(trimmed) ? Number(trimmed) : ms(trimmed as ms.StringValue);
  return Number.isFinite(parsed) ? Math.round(parsed) : undefined;
}

export function formatDuration(milliseconds: number): string {
  return ms(milliseconds);
}
