import { Controller, Get, Post } from '@nestjs/common';
import Redis from 'ioredis';
import { Agent } from 'node:http';
import request from 'supertest';
import { Admin, Authenticated, Public } from '../../src/http/route-group.decorator';
import { parseInfo } from '../../src/redis/redis-preflight';
import { createHttpApp, createUser, HttpApp, login, sessionCookie } from '../support/http-app';
import { createTestDatabase, startTestRedis, testEnv, TestRedis } from '../support/services';
import { waitUntil } from '../support/wait';

@Controller('test-routes')
class TestRoutesController {
  @Get('undecorated')
  undecorated() {
    return { reached: true };
  }

  @Public()
  @Get('public')
  open() {
    return { reached: true };
  }

  @Authenticated()
  @Get('read')
  read() {
    return { reached: true };
  }

  @Admin()
  @Post('mutate')
  mutate() {
    return { reached: true };
  }
}

/** Commands the server executed, INFO itself excluded (the measurement must not count itself). */
async function commandCount(redis: Redis): Promise<number> {
  const stats = parseInfo(await redis.info('commandstats'));
  return Object.entries(stats)
    .filter(([name]) => name !== 'cmdstat_info')
    .reduce((sum, [, value]) => sum + Number(/calls=(\d+)/.exec(value)?.[1] ?? 0), 0);
}

describe('Route groups, sessions and login (real Redis and PostgreSQL)', () => {
  let redis: TestRedis;
  let http: HttpApp;
  let probe: Redis;

  beforeAll(async () => {
    redis = await startTestRedis();
    // api role: no job processing, so Redis sees only what HTTP requests cause.
    http = await createHttpApp(
      testEnv(redis.url, await createTestDatabase(), { APP_ROLE: 'api' }),
      [TestRoutesController],
    );
    await createUser(http, 'admin@example.com', 'admin');
    await createUser(http, 'viewer@example.com', 'viewer');
    probe = new Redis(redis.url);
  });

  afterAll(async () => {
    probe?.disconnect();
    await http?.close();
    await redis?.stop();
  });

  it('serves public routes with no cookie and no Redis command at all', async () => {
    const before = await commandCount(probe);
    for (let i = 0; i < 25; i += 1) {
      await request(http.server).get('/health/live').expect(200);
      await request(http.server).get('/test-routes/public').expect(200);
    }
    expect((await commandCount(probe)) - before).toBe(0);
    // The measurement can see commands: an authenticated request does cause some.
    const { cookie } = await login(http.server, 'viewer@example.com');
    const beforeAuthenticated = await commandCount(probe);
    await request(http.server).get('/test-routes/read').set('Cookie', cookie).expect(200);
    expect((await commandCount(probe)) - beforeAuthenticated).toBeGreaterThan(0);
  });

  it('answers 401 on authenticated routes without a session, and on an undecorated route', async () => {
    await request(http.server).get('/test-routes/read').expect(401);
    await request(http.server).get('/auth/me').expect(401);
    const res = await request(http.server).get('/test-routes/undecorated').expect(401);
    expect(res.body.message).toMatch(/Log in first/);
  });

  it('answers 403 on admin routes for a viewer, and lets an admin through', async () => {
    const viewer = await login(http.server, 'viewer@example.com');
    await request(http.server)
      .post('/test-routes/mutate')
      .set('Cookie', viewer.cookie)
      .set('X-CSRF-Token', viewer.csrfToken)
      .expect(403);
    const admin = await login(http.server, 'admin@example.com');
    await request(http.server)
      .post('/test-routes/mutate')
      .set('Cookie', admin.cookie)
      .set('X-CSRF-Token', admin.csrfToken)
      .expect(201, { reached: true });
  });

  it('refuses a cookie-authenticated mutation without the CSRF token', async () => {
    const admin = await login(http.server, 'admin@example.com');
    await request(http.server).post('/test-routes/mutate').set('Cookie', admin.cookie).expect(403);
    await request(http.server)
      .post('/test-routes/mutate')
      .set('Cookie', admin.cookie)
      .set('X-CSRF-Token', 'x'.repeat(admin.csrfToken.length))
      .expect(403);
  });

  it('gives the same answer for an unknown user and a wrong password', async () => {
    const unknown = await request(http.server)
      .post('/auth/login')
      .send({ email: 'nobody@example.com', password: 'whatever-it-is' });
    const wrong = await request(http.server)
      .post('/auth/login')
      .send({ email: 'admin@example.com', password: 'not the password' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(unknown.headers['set-cookie']).toBeUndefined();
  });

  it('throttles repeated failures for an account with 429, across attempts', async () => {
    await createUser(http, 'target@example.com', 'operator');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const res = await request(http.server)
        .post('/auth/login')
        .send({ email: 'target@example.com', password: `guess-${i}` });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    // Even the right password is refused from this address while it is throttled...
    const refused = await request(http.server)
      .post('/auth/login')
      .send({ email: 'target@example.com', password: 'correct horse battery' })
      .expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // ...but not from the owner's own address: the lock is per account and client IP.
    const elsewhere = new Agent({ localAddress: '127.0.0.2' });
    try {
      await request(http.server)
        .post('/auth/login')
        .agent(elsewhere)
        .send({ email: 'target@example.com', password: 'correct horse battery' })
        .expect(200);
    } finally {
      elsewhere.destroy();
    }
  });

  it('changes the session ID at login and invalidates the old one', async () => {
    const first = await login(http.server, 'admin@example.com');
    const res = await request(http.server)
      .post('/auth/login')
      .set('Cookie', first.cookie)
      .send({ email: 'admin@example.com', password: 'correct horse battery' })
      .expect(200);
    const second = sessionCookie(res.headers['set-cookie']);
    expect(second).not.toBe(first.cookie);
    await request(http.server).get('/auth/me').set('Cookie', first.cookie).expect(401);
    await request(http.server).get('/auth/me').set('Cookie', second).expect(200);
  });

  it('logs out by destroying the session in Redis', async () => {
    const session = await login(http.server, 'viewer@example.com');
    const sid = decodeURIComponent(session.cookie.slice('sid='.length)).slice(2).split('.')[0];
    expect(await probe.exists(`sess:${sid}`)).toBe(1);
    await request(http.server)
      .post('/auth/logout')
      .set('Cookie', session.cookie)
      .set('X-CSRF-Token', session.csrfToken)
      .expect(204);
    expect(await probe.exists(`sess:${sid}`)).toBe(0);
    await request(http.server).get('/auth/me').set('Cookie', session.cookie).expect(401);
  });

  it('answers 400 with the wrong fields, and 413 for an oversized body', async () => {
    const res = await request(http.server)
      .post('/auth/login')
      .send({ email: 'not-an-email', password: '', extra: 1 })
      .expect(400);
    const messages = (res.body.message as string[]).join('\n');
    expect(messages).toMatch(/email must be an email/);
    expect(messages).toMatch(/property extra should not exist/);
    await request(http.server)
      .post('/auth/login')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(200_000) }))
      .expect(413);
  });

  it('sends security headers (helmet) on every response', async () => {
    const res = await request(http.server).get('/health/live').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('sets the session cookie httpOnly and SameSite, with max-age SESSION_TTL', async () => {
    const res = await request(http.server)
      .post('/auth/login')
      .send({ email: 'viewer@example.com', password: 'correct horse battery' })
      .expect(200);
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('sid='),
    )!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Expires=/);
  });
});

describe('Session expiry', () => {
  let redis: TestRedis;
  let http: HttpApp;

  beforeAll(async () => {
    redis = await startTestRedis();
    http = await createHttpApp(
      testEnv(redis.url, await createTestDatabase(), { APP_ROLE: 'api', SESSION_TTL: '2s' }),
    );
    await createUser(http, 'brief@example.com', 'viewer');
  });

  afterAll(async () => {
    await http?.close();
    await redis?.stop();
  });

  it('expires an idle session after SESSION_TTL, in Redis and for the cookie', async () => {
    const { cookie } = await login(http.server, 'brief@example.com');
    await request(http.server).get('/auth/me').set('Cookie', cookie).expect(200);
    const probe = new Redis(redis.url);
    try {
      const [key] = await probe.keys('sess:*');
      const ttl = await probe.ttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2);
      await waitUntil(async () => (await probe.exists(key)) === 0, {
        timeoutMs: 5_000,
        message: 'the session key to expire',
      });
    } finally {
      probe.disconnect();
    }
    await request(http.server).get('/auth/me').set('Cookie', cookie).expect(401);
  });
});
