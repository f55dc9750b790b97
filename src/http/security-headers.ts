import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet, { HelmetOptions } from 'helmet';

/**
 * helmet's security headers, worked out once. With options that hold no per-request functions
 * (no CSP nonces; these defaults hold none) helmet sets the same headers on every response, yet
 * it rebuilds them per request through a chain of a dozen middleware, the CSP string included.
 * Here helmet runs once at start-up against a recording response and every request gets what it
 * recorded: the same headers, helmet still the one that decides them.
 */
export function securityHeaders(options: HelmetOptions = {}): RequestHandler {
  const headers: Array<[string, string]> = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.push([name, String(value)]),
    removeHeader: (name: string) => removed.push(name),
  };
  let done = false;
  helmet(options)({} as Request, recorder as unknown as Response, (error?: unknown) => {
    if (error) throw error;
    done = true;
  });
  if (!done) throw new Error('helmet answered asynchronously: its headers cannot be computed once');
  return (_req: Request, res: Response, next: NextFunction) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
    next();
  };
}
