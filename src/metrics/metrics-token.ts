import { timingSafeEqual } from 'node:crypto';

/**
 * METRICS_TOKEN check shared by the HTTP /metrics route and the worker's metrics server:
 * no token configured means open; otherwise `Authorization: Bearer <token>` must match.
 */
export function metricsAuthorized(
  expected: string | undefined,
  authorization: string | string[] | undefined,
): boolean {
  if (!expected) return true;
  if (typeof authorization !== 'string') return false;
  const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
  if (!match) return false;
  const given = Buffer.from(match[1]);
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
