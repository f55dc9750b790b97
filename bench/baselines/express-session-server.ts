import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import Redis from 'ioredis';
import type { AddressInfo } from 'node:net';
import { ParentChannel } from '../lib/child-side';

/** What this baseline keeps in a session (typed here, not through the project's declarations). */
type BenchSession = session.Session & {
  user?: { id: number; email: string; role: string };
  csrfToken?: string;
};

/**
 * The baseline of the authenticated route: bare Express with express-session and connect-redis
 * on an ioredis client, with the project's session settings (rolling 24 h sessions, secure
 * httpOnly lax cookie behind a trusted proxy). POST /login opens a session without checking a
 * password; GET /me answers 401 without a session user, the user and its CSRF token otherwise.
 */
const channel = new ParentChannel();
const redis = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: 1 });
const ttlMs = 86_400_000;
const app = express();
app.set('trust proxy', 'loopback');
app.use(
  session({
    name: 'sid',
    store: new RedisStore({ client: redis, prefix: 'sess:', ttl: ttlMs / 1000 }),
    secret: process.env.SESSION_SECRET as string,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'lax', secure: true, maxAge: ttlMs },
  }),
);
app.post('/login', (req, res, next) => {
  req.session.regenerate((error) => {
    if (error) return next(error);
    const opened = req.session as BenchSession;
    opened.user = { id: 1, email: 'bench@localhost', role: 'admin' };
    opened.csrfToken = 'bench-csrf-token';
    req.session.save((saveError) => (saveError ? next(saveError) : res.json({ ok: true })));
  });
});
app.get('/me', (req, res) => {
  const current = req.session as BenchSession;
  if (!current.user) {
    res.status(401).json({ message: 'Log in first' });
    return;
  }
  res.json({ user: current.user, csrfToken: current.csrfToken });
});
const server = app.listen(0, '127.0.0.1', () => {
  channel.onStop(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          redis.disconnect();
          resolve();
        });
      }),
  );
  channel.send({ type: 'ready', port: (server.address() as AddressInfo).port });
});
