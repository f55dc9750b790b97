import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { createHttpApp, createUser, HttpApp, login, Session } from '../support/http-app';
import { OpenApiValidator } from '../support/openapi-schema';
import { createPayees } from '../support/payouts-fixtures';
import { createTestDatabase, startTestRedis, testEnv, TestRedis } from '../support/services';
import { waitUntil } from '../support/wait';

/*
 * The served OpenAPI document as a client generator would use it: it passes Redocly's
 * recommended rules, every operation has a summary and a body schema for each answer, and every
 * GET route, called as a logged-in admin on real data, answers a status the document declares
 * with a body that matches that status's schema.
 */

const REPO = path.resolve(__dirname, '..', '..');

interface Operation {
  summary?: string;
  parameters?: Array<{ name: string; in: string }>;
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema?: unknown }> }
  >;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

describe('OpenAPI document: lint and contract', () => {
  let redis: TestRedis;
  let databaseUrl: string;
  let http: HttpApp;
  let admin: Session;
  let document: Document;
  const ids: Record<string, string> = {};
  const get = (url: string) => request(http.server).get(url).set('Cookie', admin.cookie);
  const post = (url: string, body: object = {}) =>
    request(http.server)
      .post(url)
      .set('Cookie', admin.cookie)
      .set('X-CSRF-Token', admin.csrfToken)
      .send(body);

  beforeAll(async () => {
    redis = await startTestRedis();
    databaseUrl = await createTestDatabase();
    // Role `all`: the jobs run, so payouts get paid and the export finishes (full answers).
    http = await createHttpApp(testEnv(redis.url, databaseUrl, { PROVIDER_LATENCY: '0' }));
    document = (await request(http.server).get('/docs-json').expect(200)).body as Document;
    await createUser(http, 'admin@example.com', 'admin');
    admin = await login(http.server, 'admin@example.com');

    await createPayees(databaseUrl, [{ earnings: [5_000] }, { earnings: [7_000] }]);
    const cycle = await post('/payouts/cycle').expect(202);
    ids.correlationId = cycle.body.correlationId;
    const paid = await waitUntil(
      async () => {
        const page = await get('/payouts?status=paid').expect(200);
        return page.body.items.length === 2 ? page.body.items : undefined;
      },
      { message: 'two paid payouts', timeoutMs: 60_000 },
    );
    ids.payout = paid[0].id;
    // The total counts every page: a user watches progress with it.
    const firstPage = await get('/payouts?limit=1').expect(200);
    expect(firstPage.body).toMatchObject({ total: 2, nextCursor: expect.any(String) });
    expect(firstPage.body.items).toHaveLength(1);
    const exported = await post('/exports', {}).expect(202);
    ids.export = exported.body.exportId;
    await waitUntil(
      async () => (await get(`/exports/${ids.export}`).expect(200)).body.status === 'done',
      { message: 'the export to finish', timeoutMs: 60_000 },
    );
    // One schedule with a last run, the others without: both shapes of GET /schedules.
    await post('/schedules/payout-reconcile/run').expect(202);
    await waitUntil(
      async () => {
        const { body } = await get('/schedules').expect(200);
        const run = body.schedules.find((s: { name: string }) => s.name === 'payout-reconcile');
        return run?.lastRun?.status === 'succeeded';
      },
      { message: 'the manual run to succeed', timeoutMs: 60_000 },
    );
    const jobs = await get('/queues/payouts/jobs?state=completed').expect(200);
    ids.job = jobs.body.jobs[0].id;
  });

  afterAll(async () => {
    await http?.close();
    await redis?.stop();
  });

  const operations = () =>
    Object.entries(document.paths).flatMap(([route, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ route, method, operation })),
    );

  it('validates nullable fields, $refs and formats as OpenAPI 3.0 means them', () => {
    const validator = new OpenApiValidator({
      components: {
        schemas: {
          Run: {
            type: 'object',
            required: ['at'],
            properties: { at: { type: 'string', format: 'date-time' } },
          },
        },
      },
    });
    const validate = validator.compile({
      type: 'object',
      required: ['note', 'run'],
      properties: {
        note: { type: 'string', nullable: true },
        run: { nullable: true, type: 'object', allOf: [{ $ref: '#/components/schemas/Run' }] },
        state: { type: 'string', enum: ['done'], nullable: true },
      },
    });
    expect(validate({ note: null, run: null, state: null })).toBe(true);
    expect(validate({ note: 'a', run: { at: '2026-01-01T00:00:00Z' }, state: 'done' })).toBe(true);
    expect(validate({ note: 1, run: null })).toBe(false);
    expect(validate({ note: 'a', run: { at: 'yesterday' } })).toBe(false);
    expect(validate({ note: 'a', run: null, state: 'other' })).toBe(false);
    expect(validate({ note: 'a' })).toBe(false);
  });

  it("passes Redocly's recommended rules with no error", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-'));
    const file = path.join(dir, 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(document));
    const result = spawnSync(
      path.join(REPO, 'node_modules/.bin/redocly'),
      ['lint', '--extends=recommended', '--format=json', file],
      {
        encoding: 'utf8',
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    );
    fs.rmSync(dir, { recursive: true, force: true });
    const report = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as {
      totals: { errors: number; warnings: number };
      problems: Array<{ ruleId: string; severity: string; message: string }>;
    };
    const errors = report.problems.filter((p) => p.severity === 'error');
    expect(errors.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals.errors).toBe(0);
    expect(result.status).toBe(0);
  });

  it('gives every operation a summary and a body schema for every answer with a body', () => {
    const problems: string[] = [];
    for (const { route, method, operation } of operations()) {
      const name = `${method.toUpperCase()} ${route}`;
      if (!operation.summary) problems.push(`${name}: no summary`);
      for (const match of route.matchAll(/\{(\w+)\}/g)) {
        const declared = operation.parameters?.some((p) => p.in === 'path' && p.name === match[1]);
        if (!declared) problems.push(`${name}: path parameter ${match[1]} not declared`);
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        if (status === '204') continue;
        const schemas = Object.values(response.content ?? {}).filter((c) => c.schema);
        if (schemas.length === 0) problems.push(`${name} ${status}: no body schema`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('answers every GET route, as an admin, with a declared status and a body matching its schema', async () => {
    const validator = new OpenApiValidator(document);
    const values: Record<string, Record<string, string>> = {
      '/payouts/{id}': { id: ids.payout },
      '/exports/{id}': { id: ids.export },
      '/exports/{id}/download': { id: ids.export },
      '/queues/{name}': { name: 'payouts' },
      '/queues/{name}/jobs': { name: 'payouts' },
      '/queues/{name}/jobs/{id}': { name: 'payouts', id: ids.job },
      '/jobs/by-correlation/{correlationId}': { correlationId: ids.correlationId },
    };
    const gets = operations().filter((op) => op.method === 'get');
    expect(gets.length).toBeGreaterThanOrEqual(14);
    const problems: string[] = [];
    for (const { route, operation } of gets) {
      const url = route.replace(/\{(\w+)\}/g, (_m, name: string) => {
        const value = values[route]?.[name];
        if (value === undefined) throw new Error(`No test value for {${name}} in GET ${route}`);
        return encodeURIComponent(value);
      });
      const res = await get(url).buffer(true);
      const declared = operation.responses[String(res.status)];
      if (!declared) {
        problems.push(`GET ${url}: ${res.status} is not declared`);
        continue;
      }
      const type = String(res.headers['content-type'] ?? '').split(';')[0];
      const media = declared.content?.[type];
      if (!media?.schema) {
        problems.push(`GET ${url}: ${res.status} ${type} has no declared schema`);
        continue;
      }
      const body = type === 'application/json' ? res.body : res.text;
      const validate = validator.compile(media.schema);
      if (!validate(body)) {
        problems.push(`GET ${url}: ${validator['ajv'].errorsText(validate.errors)}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
