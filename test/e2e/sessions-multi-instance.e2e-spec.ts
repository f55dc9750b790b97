import request from 'supertest';
import { AppProcess } from '../support/app-process';
import { sessionCookie } from '../support/http-app';
import { createTestDatabase, startTestRedis, testEnv, TestRedis } from '../support/services';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../../scripts/lib/services.cjs');

const ADMIN = { email: 'ops@example.com', password: 'a long enough password' };

describe('Sessions across instances (two API processes, one Redis)', () => {
  let redis: TestRedis;
  const apps: AppProcess[] = [];
  const urls: string[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    const env = testEnv(redis.url, await createTestDatabase(), {
      APP_ROLE: 'api',
      LOG_LEVEL: 'info',
      SESSION_SECRET: 'first-secret-for-tests-0123456789abcdef',
      BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    });
    for (let i = 0; i < 2; i += 1) {
      const port = String(await freePort());
      apps.push(new AppProcess('main', { ...env, PORT: port, HOST: '127.0.0.1' }));
      urls.push(`http://127.0.0.1:${port}`);
    }
    await Promise.all(apps.map((app) => app.waitReady(90_000)));
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await redis?.stop();
  });

  it('logs in on one instance and is recognised by the other; logout on one ends it on both', async () => {
    const [a, b] = urls;
    const res = await request(a).post('/auth/login').send(ADMIN).expect(200);
    const cookie = sessionCookie(res.headers['set-cookie']);
    const { csrfToken } = res.body as { csrfToken: string };

    const me = await request(b).get('/auth/me').set('Cookie', cookie).expect(200);
    expect(me.body.user).toMatchObject({ email: ADMIN.email, role: 'admin' });
    expect(me.body.csrfToken).toBe(csrfToken);

    await request(b)
      .post('/auth/logout')
      .set('Cookie', cookie)
      .set('X-CSRF-Token', csrfToken)
      .expect(204);
    await request(a).get('/auth/me').set('Cookie', cookie).expect(401);
    await request(b).get('/auth/me').set('Cookie', cookie).expect(401);
  });

  it('created the bootstrap admin once although both instances started together', async () => {
    const created = apps
      .flatMap((app) => app.lines)
      .filter((line) => line.msg === `Created the bootstrap admin ${ADMIN.email}`);
    expect(created).toHaveLength(1);
  });
});
