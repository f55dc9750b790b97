import type { Request } from 'express';
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const CSRF_HEADER = 'X-CSRF-Token';

export function newCsrfToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The header must equal the token stored in the session (a cross-site page can read neither). */
export function hasValidCsrfToken(req: Request): boolean {
  const expected = req.session?.csrfToken;
  const given = req.headers[CSRF_HEADER.toLowerCase()];
  if (!expected || typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}
