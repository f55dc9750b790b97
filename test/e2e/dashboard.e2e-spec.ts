import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import request from 'supertest';
import { JobName, JobProducer, QUEUE_NAMES } from '../../src/queue';
import { createHttpApp, createUser, HttpApp, login, Session } from '../support/http-app';
import { createTestDatabase, query, startTestRedis, testEnv, TestRedis } from '../support/services';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { CHROMIUM_ARGS, ensureChromium } = require('../../scripts/lib/ensure-chromium.cjs');

// The e2e project's testTimeout is not applied by Jest (a global-only option): set it here.
jest.setTimeout(60_000);

/** docs/dashboard.png is refreshed only on request: UPDATE_SCREENSHOTS=1 npx jest dashboard. */
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
const SCREENSHOT = path.resolve(__dirname, '..', '..', 'docs', 'dashboard.png');

describe('Queue dashboard and API docs in headless Chromium', () => {
  let redis: TestRedis;
  let http: HttpApp;
  let base: string;
  let admin: Session;
  let viewer: Session;
  let databaseUrl: string;
  let profile: string;
  let browser: BrowserContext;
  const cspViolations: string[] = [];

  /** Waits until the board shows each of the four queues: in the menu and as an overview card. */
  const showsEveryQueue = async (page: Page) => {
    for (const name of QUEUE_NAMES) {
      await page.getByText(name, { exact: true }).nth(1).waitFor({ timeout: 20_000 });
    }
  };

  /** A page whose requests carry this session's cookie (none for undefined). */
  async function pageAs(session: Session | undefined): Promise<Page> {
    await browser.clearCookies();
    if (session) {
      const [name, value] = session.cookie.split('=');
      await browser.addCookies([{ name, value, url: base }]);
    }
    const page = await browser.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    return page;
  }

  beforeAll(async () => {
    const executablePath: string = ensureChromium();
    redis = await startTestRedis();
    databaseUrl = await createTestDatabase();
    http = await createHttpApp(testEnv(redis.url, databaseUrl, { APP_ROLE: 'api' }));
    await http.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(http.app.getHttpServer().address() as AddressInfo).port}`;
    await createUser(http, 'admin@example.com', 'admin');
    await createUser(http, 'viewer@example.com', 'viewer');
    admin = await login(http.server, 'admin@example.com');
    viewer = await login(http.server, 'viewer@example.com');
    // Something to look at: the api role processes nothing, so these wait.
    const producer = http.app.get(JobProducer);
    for (const day of ['2026-03-01', '2026-03-02', '2026-03-03']) {
      await producer.enqueue(JobName.AnalyticsDailyStats, { day });
    }
    await producer.enqueue(JobName.PayoutCycle, { trigger: 'manual' }, { delay: 3_600_000 });

    profile = mkdtempSync(path.join(tmpdir(), 'chromium-profile-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await http?.close();
    await redis?.stop();
  });

  it('shows the four queues to a logged-in admin at /admin/queues', async () => {
    const page = await pageAs(admin);
    const response = await page.goto(`${base}/admin/queues`, { waitUntil: 'domcontentloaded' });
    expect(response?.status()).toBe(200);
    await showsEveryQueue(page);
    await page.screenshot({
      path: UPDATE_SCREENSHOTS ? SCREENSHOT : path.join(profile, 'dashboard.png'),
    });
    await page.close();
    expect(cspViolations).toEqual([]);
  });

  it('refuses the dashboard without a session (401) and to a non-admin (403)', async () => {
    const anonymous = await pageAs(undefined);
    const refused = await anonymous.goto(`${base}/admin/queues`);
    expect(refused?.status()).toBe(401);
    expect(await anonymous.textContent('body')).toMatch(/Log in first/);
    await anonymous.close();

    const viewerPage = await pageAs(viewer);
    const forbidden = await viewerPage.goto(`${base}/admin/queues`);
    expect(forbidden?.status()).toBe(403);
    expect(await viewerPage.textContent('body')).toMatch(
      /\/monitor\/queues is the read-only board/,
    );
    await viewerPage.close();
    // The board's API is behind the same gate.
    await request(http.server).get('/admin/queues/api/queues').expect(401);
    await request(http.server)
      .get('/admin/queues/api/queues')
      .set('Cookie', viewer.cookie)
      .expect(403);
  });

  it('gives any logged-in user the read-only board at /monitor/queues, which refuses changes', async () => {
    const page = await pageAs(viewer);
    const response = await page.goto(`${base}/monitor/queues`, { waitUntil: 'domcontentloaded' });
    expect(response?.status()).toBe(200);
    await showsEveryQueue(page);
    await page.close();
    const api = await request(http.server)
      .get('/monitor/queues/api/queues')
      .set('Cookie', viewer.cookie)
      .expect(200);
    expect(api.body.queues.every((q: { readOnlyMode: boolean }) => q.readOnlyMode)).toBe(true);
    await request(http.server)
      .put('/monitor/queues/api/queues/analytics/pause')
      .set('Cookie', admin.cookie)
      .set('Origin', base)
      .expect(403);
  });

  it("accepts the admin board's own changes only from its origin, and audits them", async () => {
    await request(http.server)
      .put('/admin/queues/api/queues/analytics/pause')
      .set('Cookie', admin.cookie)
      .set('Origin', 'https://evil.example')
      .expect(403);
    await request(http.server)
      .put('/admin/queues/api/queues/analytics/pause')
      .set('Cookie', admin.cookie)
      .set('Origin', base)
      .expect(200);
    expect(await http.app.get(JobProducer).queue(QUEUE_NAMES[1]).isPaused()).toBe(true);
    const rows = await query<{ actor_email: string; action: string; target: string }>(
      databaseUrl,
      "select actor_email, action, target from audit_log where action like 'dashboard.%'",
    );
    expect(rows).toEqual([
      {
        actor_email: 'admin@example.com',
        action: 'dashboard.put',
        target: '/admin/queues/api/queues/analytics/pause',
      },
    ]);
  });

  it('renders Swagger UI at /docs without a session', async () => {
    const page = await pageAs(undefined);
    const response = await page.goto(`${base}/docs`, { waitUntil: 'domcontentloaded' });
    expect(response?.status()).toBe(200);
    await page.waitForSelector('text=payouts-jobs API', { timeout: 20_000 });
    // One operation block per documented route.
    await page.locator('.opblock').nth(14).waitFor({ timeout: 20_000 });
    await page.close();
    expect(cspViolations).toEqual([]);
  });
});
