import * as argon2 from 'argon2';
import Redis from 'ioredis';
import * as http from 'node:http';
import request from 'supertest';
import { AppProcess } from '../support/app-process';
import { sessionCookie } from '../support/http-app';
import { createTestDatabase, query, startTestRedis, testEnv, TestRedis } from '../support/services';
import { waitUntil } from '../support/wait';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../../scripts/lib/services.cjs');

const ADMIN = { email: 'ops@example.com', password: 'a long enough password' };
const PASSWORD = 'correct horse battery';

interface Session {
  cookie: string;
  csrfToken: string;
}

/**
 * Requests sent from a chosen loopback address (127.0.0.2, 127.0.0.3...): the app sees a distinct
 * client IP for each, as it would for distinct clients (TRUST_PROXY is off, so X-Forwarded-For
 * would be ignored, as it must be).
 */
const agents = new Map<string, http.Agent>();
function from(ip: string): http.Agent {
  let agent = agents.get(ip);
  if (!agent) {
    agent = new http.Agent({ localAddress: ip });
    agents.set(ip, agent);
  }
  return agent;
}

function attemptLogin(url: string, email: string, password: string, ip = '127.0.0.1') {
  return request(url).post('/auth/login').agent(from(ip)).send({ email, password });
}

async function login(url: string, email: string, password = PASSWORD): Promise<Session> {
  const res = await attemptLogin(url, email, password).expect(200);
  return { cookie: sessionCookie(res.headers['set-cookie']), csrfToken: res.body.csrfToken };
}

/** Two API processes on one Redis and one database: everything below crosses from one to the other. */
async function startApis(overrides: Record<string, string>) {
  const redis = await startTestRedis();
  const databaseUrl = await createTestDatabase();
  const env = testEnv(redis.url, databaseUrl, {
    APP_ROLE: 'api',
    LOG_LEVEL: 'info',
    SESSION_SECRET: 'session-control-secret-0123456789abcdef',
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    ...overrides,
  });
  const apps: AppProcess[] = [];
  const urls: string[] = [];
  for (let i = 0; i < 2; i += 1) {
    const port = String(await freePort());
    apps.push(new AppProcess('main', { ...env, PORT: port, HOST: '127.0.0.1' }));
    urls.push(`http://127.0.0.1:${port}`);
  }
  // Generous: on a loaded machine two Node processes can take a while to boot.
  await Promise.all(apps.map((app) => app.waitReady(120_000)));
  return { redis, databaseUrl, apps, urls };
}

async function createUser(
  databaseUrl: string,
  email: string,
  role: 'admin' | 'operator' | 'viewer',
): Promise<number> {
  const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id });
  const [row] = await query<{ id: string }>(
    databaseUrl,
    'INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3) RETURNING id',
    [email, hash, role],
  );
  return Number(row.id);
}

describe('Login throttling across two API processes (real Redis and PostgreSQL)', () => {
  const LIMITS = { perAccountIp: 5, perIp: 12, perAccount: 8 };
  let redis: TestRedis;
  let databaseUrl: string;
  let apps: AppProcess[] = [];
  let urls: string[] = [];
  let probe: Redis;

  beforeAll(async () => {
    ({ redis, databaseUrl, apps, urls } = await startApis({
      LOGIN_FAILURES_PER_ACCOUNT_IP: String(LIMITS.perAccountIp),
      LOGIN_FAILURES_PER_IP: String(LIMITS.perIp),
      LOGIN_FAILURES_PER_ACCOUNT: String(LIMITS.perAccount),
    }));
    probe = new Redis(redis.url);
  }, 180_000);

  afterAll(async () => {
    probe?.disconnect();
    agents.forEach((agent) => agent.destroy());
    await Promise.all(apps.map((app) => app.stop()));
    await redis?.stop();
  });

  it('verifies at most the limit of 50 concurrent guesses, and the owner still logs in from their own IP', async () => {
    await createUser(databaseUrl, 'victim@example.com', 'admin');
    const guesses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        attemptLogin(urls[i % 2], 'victim@example.com', `guess number ${i}`, '127.0.0.2'),
      ),
    );
    const statuses = guesses.map((res) => res.status);
    // 401 = the password was checked (and wrong); 429 = refused before any check.
    expect(statuses.filter((status) => status === 401)).toHaveLength(LIMITS.perAccountIp);
    expect(statuses.filter((status) => status === 429)).toHaveLength(50 - LIMITS.perAccountIp);
    for (const res of guesses.filter((r) => r.status === 429)) {
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.body.message).toMatch(/Too many failed logins/);
    }
    // Only the verified guesses reached the per-account ceiling: the refused ones cannot use it up.
    expect(await probe.get('login:account:victim@example.com')).toBe(String(LIMITS.perAccountIp));

    // The right password from the stranger's address is refused too (no verification at all)...
    await attemptLogin(urls[0], 'victim@example.com', PASSWORD, '127.0.0.2').expect(429);
    // ...but the owner, from their own address, logs in on either instance.
    await attemptLogin(urls[1], 'victim@example.com', PASSWORD, '127.0.0.3').expect(200);
    await attemptLogin(urls[0], 'Victim@Example.com', PASSWORD, '127.0.0.3').expect(200);
  });

  it('answers an unknown account exactly as a known one, throttling included', async () => {
    await createUser(databaseUrl, 'known@example.com', 'viewer');
    const answers = async (email: string) => {
      const out: Array<[number, unknown]> = [];
      for (let i = 0; i < LIMITS.perAccountIp + 1; i += 1) {
        const res = await attemptLogin(urls[i % 2], email, `wrong ${i}`, '127.0.0.4');
        // The 429 message gives the seconds left, which may differ by one between the two runs.
        out.push([
          res.status,
          res.status === 401 ? res.body : /Too many failed logins/.test(res.body.message),
        ]);
      }
      return out;
    };
    expect(await answers('nobody@example.com')).toEqual(await answers('known@example.com'));
  });

  it('caps guesses at one account from many addresses with the per-account ceiling', async () => {
    await createUser(databaseUrl, 'popular@example.com', 'viewer');
    const guess = (ip: string, i: number) =>
      attemptLogin(urls[i % 2], 'popular@example.com', `wrong ${i}`, ip).then((r) => r.status);
    const first: number[] = [];
    for (let i = 0; i < LIMITS.perAccountIp; i += 1) first.push(await guess('127.0.0.5', i));
    const second: number[] = [];
    for (let i = 0; i < LIMITS.perAccountIp; i += 1) second.push(await guess('127.0.0.6', i));
    expect(first).toEqual([401, 401, 401, 401, 401]);
    // 8 failures in all are verified, then the account is throttled from every address.
    expect(second).toEqual([401, 401, 401, 429, 429]);
    await attemptLogin(urls[0], 'popular@example.com', PASSWORD, '127.0.0.7').expect(429);
  });

  it('limits the failures from one address whatever the accounts', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMITS.perIp + 2; i += 1) {
      // A new account every 4 guesses: the per account+IP limit is never the one reached.
      const res = await attemptLogin(
        urls[i % 2],
        `spray-${Math.floor(i / 4)}@example.com`,
        'x',
        '127.0.0.8',
      );
      statuses.push(res.status);
    }
    expect(statuses.slice(0, LIMITS.perIp)).toEqual(Array(LIMITS.perIp).fill(401));
    expect(statuses.slice(LIMITS.perIp)).toEqual([429, 429]);
    // Another address is not affected.
    await attemptLogin(urls[1], 'spray-0@example.com', 'x', '127.0.0.9').expect(401);
  });
});

describe('Session control across two API processes', () => {
  let redis: TestRedis;
  let databaseUrl: string;
  let apps: AppProcess[] = [];
  let urls: string[] = [];
  let admin: Session;

  beforeAll(async () => {
    ({ redis, databaseUrl, apps, urls } = await startApis({}));
    admin = await login(urls[0], ADMIN.email, ADMIN.password);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await redis?.stop();
  });

  const me = (url: string, session: Session) =>
    request(url).get('/auth/me').set('Cookie', session.cookie);

  async function auditRows(action: string) {
    return query<{ actor_email: string; target: string; detail: { outcome: string } }>(
      databaseUrl,
      'SELECT actor_email, target, detail FROM audit_log WHERE action = $1 ORDER BY id',
      [action],
    );
  }

  it('applies a demotion on the next request, on the other instance', async () => {
    const id = await createUser(databaseUrl, 'dora@example.com', 'admin');
    const dora = await login(urls[0], 'dora@example.com');
    await request(urls[1]).get('/users').set('Cookie', dora.cookie).expect(200);

    const res = await request(urls[0])
      .patch(`/users/${id}`)
      .set('Cookie', admin.cookie)
      .set('X-CSRF-Token', admin.csrfToken)
      .send({ role: 'viewer' })
      .expect(200);
    expect(res.body).toMatchObject({ id, role: 'viewer', disabled: false });

    await request(urls[1]).get('/users').set('Cookie', dora.cookie).expect(403);
    expect((await me(urls[1], dora).expect(200)).body.user).toMatchObject({ role: 'viewer' });
    const [row] = await auditRows('user.update');
    expect(row).toMatchObject({ actor_email: ADMIN.email, target: `users/${id}` });
    expect(row.detail.outcome).toBe('done');
  });

  it("ends a disabled user's sessions on the next request and refuses their login", async () => {
    const id = await createUser(databaseUrl, 'dan@example.com', 'operator');
    const dan = await login(urls[0], 'dan@example.com');
    await me(urls[1], dan).expect(200);

    await request(urls[1])
      .patch(`/users/${id}`)
      .set('Cookie', admin.cookie)
      .set('X-CSRF-Token', admin.csrfToken)
      .send({ disabled: true })
      .expect(200)
      .expect((res) => expect(res.body.disabled).toBe(true));

    const refused = await me(urls[0], dan).expect(401);
    expect(refused.headers['set-cookie']?.[0]).toMatch(/^sid=;/); // cookie cleared
    await me(urls[1], dan).expect(401);
    // Same answer as a wrong password: a disabled account is not revealed.
    const login401 = await attemptLogin(urls[1], 'dan@example.com', PASSWORD, '127.0.0.10');
    expect(login401.status).toBe(401);
    expect(login401.body.message).toBe('Invalid email or password');

    // Enabled again: a new login works, the old session stays ended.
    await request(urls[0])
      .patch(`/users/${id}`)
      .set('Cookie', admin.cookie)
      .set('X-CSRF-Token', admin.csrfToken)
      .send({ disabled: false })
      .expect(200);
    const again = await login(urls[1], 'dan@example.com');
    await me(urls[0], again).expect(200);
    await me(urls[0], dan).expect(401);
  });

  it('logs a user out everywhere: every session, on both instances', async () => {
    await createUser(databaseUrl, 'lou@example.com', 'viewer');
    const first = await login(urls[0], 'lou@example.com');
    const second = await login(urls[1], 'lou@example.com');
    await me(urls[1], first).expect(200);
    await me(urls[0], second).expect(200);

    await request(urls[0])
      .post('/auth/logout-all')
      .set('Cookie', first.cookie)
      .set('X-CSRF-Token', first.csrfToken)
      .expect(204);

    for (const url of urls) {
      await me(url, first).expect(401);
      await me(url, second).expect(401);
    }
    const fresh = await login(urls[1], 'lou@example.com');
    await me(urls[0], fresh).expect(200);
    const rows = await auditRows('auth.logout-all');
    expect(rows).toEqual([
      expect.objectContaining({
        actor_email: 'lou@example.com',
        target: expect.stringMatching(/^users\/\d+$/),
      }),
    ]);
  });

  it('lets an admin end all sessions of a user, audited, on both instances', async () => {
    const id = await createUser(databaseUrl, 'eve@example.com', 'operator');
    const onA = await login(urls[0], 'eve@example.com');
    const onB = await login(urls[1], 'eve@example.com');

    // Not for non-admins, and the ID is validated.
    await request(urls[0])
      .delete(`/users/${id}/sessions`)
      .set('Cookie', onA.cookie)
      .set('X-CSRF-Token', onA.csrfToken)
      .expect(403);
    const call = (target: string) =>
      request(urls[1])
        .delete(`/users/${target}/sessions`)
        .set('Cookie', admin.cookie)
        .set('X-CSRF-Token', admin.csrfToken);
    await call('abc').expect(400);
    await call('99999999999999999999').expect(400);
    await call('999999').expect(404);
    await me(urls[0], onA).expect(200);

    await call(String(id)).expect(204);
    for (const url of urls) {
      await me(url, onA).expect(401);
      await me(url, onB).expect(401);
    }
    // The admin's own session is untouched.
    await me(urls[0], admin).expect(200);
    const rows = await auditRows('user.sessions.end');
    // The operator's 403 comes from the guard, before the handler: not an admin action.
    expect(rows.map((row) => [row.target, row.detail.outcome])).toEqual([
      ['users/abc', 'refused'],
      ['users/99999999999999999999', 'refused'],
      ['users/999999', 'refused'],
      [`users/${id}`, 'done'],
    ]);
  });

  it('refuses an admin demoting or disabling themselves', async () => {
    const [row] = await query<{ id: string }>(
      databaseUrl,
      'SELECT id FROM users WHERE email = $1',
      [ADMIN.email],
    );
    for (const change of [{ disabled: true }, { role: 'viewer' }]) {
      await request(urls[0])
        .patch(`/users/${row.id}`)
        .set('Cookie', admin.cookie)
        .set('X-CSRF-Token', admin.csrfToken)
        .send(change)
        .expect(409);
    }
    await me(urls[1], admin).expect(200);
  });
});

describe('Absolute session lifetime (SESSION_MAX_AGE) across two API processes', () => {
  let redis: TestRedis;
  let apps: AppProcess[] = [];
  let urls: string[] = [];

  beforeAll(async () => {
    // Idle lifetime a day: only the absolute lifetime can end the session below.
    ({ redis, apps, urls } = await startApis({ SESSION_TTL: '1d', SESSION_MAX_AGE: '8s' }));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await redis?.stop();
  });

  it('ends a session in use once SESSION_MAX_AGE has passed since its login', async () => {
    const session = await login(urls[0], ADMIN.email, ADMIN.password);
    const probe = new Redis(redis.url);
    try {
      const sid = decodeURIComponent(session.cookie.slice('sid='.length)).slice(2).split('.')[0];
      // Used without a pause, alternately on each instance: a rolling session never idles out.
      let i = 0;
      await waitUntil(
        async () => {
          i += 1;
          const res = await request(urls[i % 2])
            .get('/auth/me')
            .set('Cookie', session.cookie);
          if (res.status !== 200 && res.status !== 401) throw new Error(`answered ${res.status}`);
          return res.status === 401;
        },
        { timeoutMs: 30_000, intervalMs: 100, message: 'the session to reach SESSION_MAX_AGE' },
      );
      expect(i).toBeGreaterThan(1); // it was in use before it ended
      expect(await probe.exists(`sess:${sid}`)).toBe(0); // destroyed, not merely refused
      const refusals = apps
        .flatMap((app) => app.lines)
        .filter((line) => /refused: older than SESSION_MAX_AGE/.test(String(line.msg)));
      expect(refusals).toHaveLength(1);
    } finally {
      probe.disconnect();
    }
    // A new login opens a new session.
    const again = await login(urls[1], ADMIN.email, ADMIN.password);
    await request(urls[0]).get('/auth/me').set('Cookie', again.cookie).expect(200);
  });
});
