import type { Request } from 'express';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CSRF_HEADER = 'X-CSRF-Token';

/** Per process, only to make both sides of the comparison the same length (see below). */
const COMPARISON_KEY = randomBytes(32);

export function newCsrfToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The header must equal the token stored in the session (a cross-site page can read neither).
 * Both sides are compared as HMAC digests: always 32 bytes, so timingSafeEqual never throws
 * whatever the header holds (non-ASCII characters made the byte lengths differ once: a 500),
 * and the time taken says nothing about where they differ.
 */
export function hasValidCsrfToken(req: Request): boolean {
  const expected = req.session?.csrfToken;
  const given = req.headers[CSRF_HEADER.toLowerCase()];
  if (typeof expected !== 'string' || expected === '' || typeof given !== 'string') return false;
  return timingSafeEqual(digest(given), digest(expected));
}

function digest(value: string): Buffer {
  return createHmac('sha256', COMPARISON_KEY).update(value, 'utf8').digest();
}
