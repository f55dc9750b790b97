import { Injectable } from '@nestjs/common';
import { RedisStore } from 'connect-redis';
import type { Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import { AppConfig } from '../config';
import { RedisConnections } from '../redis/redis-connections';
import './session-user';

export const SESSION_COOKIE = 'sid';
export const SESSION_PREFIX = 'sess:';

/**
 * express-session on Redis (connect-redis on the shared ioredis client), run on demand: the
 * route-group guard calls load() for authenticated and admin routes only, so public routes never
 * pay for a session (and never touch Redis).
 */
@Injectable()
export class SessionLoader {
  private readonly middleware: RequestHandler;
  readonly store: RedisStore;

  constructor(config: AppConfig, redis: RedisConnections) {
    const ttlMs = config.session.ttlMs;
    this.store = new RedisStore({
      client: redis.commands,
      prefix: SESSION_PREFIX,
      ttl: Math.ceil(ttlMs / 1000),
    });
    this.middleware = session({
      name: SESSION_COOKIE,
      store: this.store,
      // The first secret signs; all of them verify, so secrets can be rotated.
      secret: config.session.secrets,
      resave: false,
      saveUninitialized: false,
      // Each request renews the idle timeout (cookie max-age and Redis TTL).
      rolling: true,
      cookie: {
        httpOnly: true,
        sameSite: 'lax',
        secure: config.isProduction,
        maxAge: ttlMs,
      },
    });
  }

  /** Loads (or prepares) req.session; rejects when Redis cannot be read. */
  load(req: Request, res: Response): Promise<void> {
    if (req.session) return Promise.resolve();
    return new Promise((resolve, reject) =>
      this.middleware(req, res, (error?: unknown) => (error ? reject(error) : resolve())),
    );
  }
}
