import * as fc from 'fast-check';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { AppProcess } from '../support/app-process';
import { createHttpApp, sessionCookie } from '../support/http-app';
import { createTestDatabase, startTestRedis, testEnv, TestRedis } from '../support/services';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { freePort } = require('../../scripts/lib/services.cjs');

const ADMIN = { email: 'fuzz-admin@example.com', password: 'fuzz admin password 0123' };
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
/** Headroom for the heap to grow while serving: a leak of the size of the fuzzed input grows past it. */
const RSS_GROWTH_LIMIT_MB = 150;
/** Node's default limit on a request's head (request line and headers). */
const MAX_HEAD_BYTES = 16 * 1024 - 512;

interface Route {
  method: string;
  path: string;
}

interface RawResponse {
  status: number;
  body: string;
  setCookie: string[];
}

/**
 * Every route of the real app, read from Express's router at run time (routes added later are
 * covered). CONNECT is left out: Node's HTTP server hands it to a `connect` listener (proxy
 * tunnels), never to Express, and closes the socket when there is none.
 */
async function listRoutes(env: Record<string, string>): Promise<Route[]> {
  const app = await createHttpApp(env);
  try {
    type Layer = { route?: { path: string; methods: Record<string, boolean> } };
    const express = app.app.getHttpAdapter().getInstance() as {
      router?: { stack: Layer[] };
      _router?: { stack: Layer[] };
    };
    const stack = (express.router ?? express._router)?.stack ?? [];
    const all = stack.flatMap((layer) =>
      layer.route
        ? Object.keys(layer.route.methods)
            .filter((method) => method !== '_all' && method !== 'connect')
            .map((method) => ({ method: method.toUpperCase(), path: layer.route!.path }))
        : [],
    );
    return [...new Map(all.map((route) => [`${route.method} ${route.path}`, route])).values()];
  } finally {
    await app.close();
  }
}

function send(
  port: number,
  request: { method: string; path: string; headers: Record<string, string>; body?: string },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: request.method,
        path: request.path,
        headers: request.headers,
        timeout: 10_000,
        // A fresh connection each time: Node 20's keep-alive agent reuses sockets the server has
        // already closed, which showed up as resets that were the client's, not the app's.
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            setCookie: res.headers['set-cookie'] ?? [],
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${request.method} ${request.path}: no answer`)));
    req.on('error', reject);
    req.end(request.body);
  });
}

/**
 * One request written byte for byte on a socket: Node's HTTP client refuses header values with
 * non-ASCII or control bytes, which are exactly what an attacker's client sends. Resolves with
 * the status of the answer (0 when the connection closed without one).
 */
function sendRaw(
  port: number,
  request: { method: string; path: string; headers: Array<[string, Buffer | string]> },
): Promise<{ status: number; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () =>
      socket.destroy(new Error(`${request.method} ${request.path}: no answer`)),
    );
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const head = Buffer.concat(chunks).toString('latin1').split('\r\n\r\n')[0];
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head });
    });
    const lines: Buffer[] = [Buffer.from(`${request.method} ${request.path} HTTP/1.1\r\n`)];
    const headers: Array<[string, Buffer | string]> = [
      ['Host', `127.0.0.1:${port}`],
      ['Connection', 'close'],
      ['Content-Length', '0'],
      ...request.headers,
    ];
    for (const [name, value] of headers)
      lines.push(Buffer.from(`${name}: `), Buffer.from(value), Buffer.from('\r\n'));
    lines.push(Buffer.from('\r\n'));
    // write, not end: Node's HTTP server drops a request whose client half-closes before the
    // answer. `Connection: close` makes the server close once it has answered.
    socket.write(Buffer.concat(lines));
  });
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

// ---------------------------------------------------------------- generators

const nasty = fc.constantFrom(
  '',
  ' ',
  '0',
  '-1',
  '1e309',
  'NaN',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '..',
  '../..',
  '%00',
  '__proto__',
  'constructor',
  'prototype',
  "' OR 1=1 --",
  '<script>',
  'ünïcødé',
  '🙂',
  'a'.repeat(5_000),
  '00000000-0000-0000-0000-000000000000',
  '2f1b7f52-1c9e-4c59-9a8e-1d2a3b4c5d6e',
  '9007199254740993',
);
const text = fc.oneof(
  nasty,
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const paramValue = fc.oneof(text, fc.integer().map(String), fc.uuid());

const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(
        text,
        fc.constantFrom(
          'page',
          'limit',
          'status',
          'cursor',
          'state',
          'a[b]',
          'a[]',
          '__proto__[x]',
          'constructor[prototype][y]',
        ),
      ),
      fc.oneof(text, fc.integer().map(String)),
    ),
    { maxLength: 6 },
  )
  .map((pairs) =>
    pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'),
  );

const body = fc.oneof(
  fc.constant(undefined),
  fc
    .jsonValue({ maxDepth: 4 })
    .map((value) => ({ type: 'application/json', text: JSON.stringify(value) })),
  fc.string({ maxLength: 200 }).map((t) => ({ type: 'application/json', text: t })), // mostly not JSON
  fc
    .constantFrom(
      '{"a":',
      '{"__proto__":{"admin":true}}',
      '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
    )
    .map((t) => ({
      type: 'application/json',
      text: t,
    })),
  fc.record({
    type: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/xml',
      'multipart/form-data; boundary=x',
    ),
    text: fc.string({ maxLength: 200 }),
  }),
);

const headerValue = fc.oneof(text, fc.uuid()).map((v) => v.replace(/[^\t\x20-\x7e]/g, '?'));
const headers = fc.record(
  {
    'x-correlation-id': headerValue,
    'x-request-id': headerValue,
    'x-csrf-token': headerValue,
    'x-forwarded-for': headerValue,
    accept: fc.constantFrom('*/*', 'text/html', 'application/json', 'garbage/;;;'),
    authorization: headerValue,
  },
  { requiredKeys: [] },
);
const cookie = fc.option(
  fc.oneof(
    headerValue.map((v) => `sid=${encodeURIComponent(v)}`),
    fc.constantFrom(
      'sid=s%3Aforged.signature',
      'sid=s:abc.def; sid=s:ghi.jkl',
      'sid=',
      '=;=;=',
      'a'.repeat(3_000),
    ),
  ),
  { nil: undefined },
);

/**
 * Header values as raw bytes: any byte but CR and LF (which would end the header), UTF-8 text
 * with non-ASCII characters, Latin-1 bytes, and the lengths of a CSRF token (32 characters).
 */
const rawHeaderValue: fc.Arbitrary<Buffer> = fc.oneof(
  // Any byte: Node's parser refuses control characters itself (400) before any app code.
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ minLength: 1, maxLength: 64 })
      .map((bytes) => Buffer.from(bytes.filter((b) => b !== 0x0d && b !== 0x0a))),
  },
  // The bytes Node lets through to the app: tab, printable ASCII and 0x80-0xff.
  {
    weight: 4,
    arbitrary: fc
      .array(
        fc.oneof(
          fc.constant(0x09),
          fc.integer({ min: 0x20, max: 0x7e }),
          fc.integer({ min: 0x80, max: 0xff }),
        ),
        {
          minLength: 1,
          maxLength: 64,
        },
      )
      .map((bytes) => Buffer.from(bytes)),
  },
  {
    weight: 3,
    arbitrary: fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
      .map((t) => Buffer.from(t, 'utf8')),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      Buffer.from('é'.repeat(16), 'utf8'), // 32 bytes, 16 characters in UTF-8
      Buffer.alloc(32, 0xe9), // 32 Latin-1 'é': the length of a token in characters
      Buffer.from('🙂'.repeat(8), 'utf8'),
      Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7f, 0x80, 0xc3, 0x28]),
      Buffer.from('\t\t\t'),
      Buffer.alloc(32, 0x00),
    ),
  },
);

/** Any path under any method: the requests no route matches (404s through the whole pipeline). */
const UNKNOWN_PATHS: Route[] = ['GET', 'POST', 'PUT', 'DELETE'].map((method) => ({
  method,
  path: '/{*path}',
}));

function fillPath(path: string, values: string[]): string {
  let i = 0;
  // Express 5 paths: `:name` parameters and `*name` / `{*name}` wildcards.
  return path.replace(/\{?[:*]\w+\}?/g, () =>
    encodeURIComponent(values[i++ % values.length] ?? 'x'),
  );
}

// ---------------------------------------------------------------- the test

describe('HTTP fuzz of every route (random bodies, query strings, params, headers, cookies)', () => {
  let redis: TestRedis;
  let env: Record<string, string>;
  let api: AppProcess;
  let port: number;
  let routes: Route[];

  beforeAll(async () => {
    redis = await startTestRedis();
    env = testEnv(redis.url, await createTestDatabase(), {
      APP_ROLE: 'api',
      LOG_LEVEL: 'error',
      BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    });
    routes = await listRoutes(env);
    process.stdout.write(
      `[fuzz] routes: ${routes.map((r) => `${r.method} ${r.path}`).join(', ')}\n`,
    );
    port = await freePort();
    api = new AppProcess('main', {
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    });
    await api.waitReady();
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
    await redis?.stop();
  });

  it('finds the routes of every controller', () => {
    expect(routes.length).toBeGreaterThan(5);
    expect(routes).toEqual(
      expect.arrayContaining([
        { method: 'POST', path: '/auth/login' },
        { method: 'GET', path: '/health/live' },
      ]),
    );
  });

  async function adminSession(): Promise<{ cookie: string; csrfToken: string }> {
    const res = await send(port, {
      method: 'POST',
      path: '/auth/login',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    if (res.status !== 200) throw new Error(`admin login answered ${res.status}: ${res.body}`);
    return {
      cookie: sessionCookie(res.setCookie),
      csrfToken: (JSON.parse(res.body) as { csrfToken: string }).csrfToken,
    };
  }

  it('answers non-ASCII and binary CSRF, correlation and cookie headers without a 5xx', async () => {
    const session = await adminSession();
    const statuses: Record<number, number> = {};
    const failures: string[] = [];
    const routes = [
      { method: 'POST', path: '/payouts/cycle' }, // admin mutation: the CSRF check
      { method: 'GET', path: '/auth/me' }, // authenticated read: the session and its user
      { method: 'GET', path: '/health/live' }, // public: correlation IDs only
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.option(fc.oneof(rawHeaderValue, fc.constant(Buffer.from(session.csrfToken))), {
          nil: undefined,
        }),
        fc.option(rawHeaderValue, { nil: undefined }),
        fc.option(rawHeaderValue, { nil: undefined }),
        fc.oneof(
          fc.constant(Buffer.from(session.cookie)),
          rawHeaderValue.map((v) => Buffer.concat([Buffer.from(`${session.cookie}; x=`), v])),
          rawHeaderValue.map((v) => Buffer.concat([Buffer.from('sid='), v])),
          rawHeaderValue,
        ),
        async (route, csrf, correlationId, requestId, cookieValue) => {
          const headers: Array<[string, Buffer | string]> = [['Cookie', cookieValue]];
          if (csrf) headers.push(['X-CSRF-Token', csrf]);
          if (correlationId) headers.push(['X-Correlation-Id', correlationId]);
          if (requestId) headers.push(['X-Request-Id', requestId]);
          const res = await sendRaw(port, { ...route, headers });
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (res.status === 0 || (res.status >= 500 && res.status !== 503)) {
            const shown = headers.map(([k, v]) => `${k}: ${Buffer.from(v).toString('hex')}`);
            failures.push(`${route.method} ${route.path} -> ${res.status} [${shown.join(', ')}]`);
          }
        },
      ),
      { numRuns: RUNS, endOnFailure: false },
    );
    process.stdout.write(`[fuzz] raw header bytes: statuses ${JSON.stringify(statuses)}\n`);
    expect(failures).toEqual([]);

    // The case reported in issue 15 (a 500 once), and its Latin-1 twin: refused with 403.
    for (const token of [Buffer.from('é'.repeat(16), 'utf8'), Buffer.alloc(32, 0xe9)]) {
      const res = await sendRaw(port, {
        method: 'POST',
        path: '/payouts/cycle',
        headers: [
          ['Cookie', session.cookie],
          ['X-CSRF-Token', token],
        ],
      });
      expect(res.status).toBe(403);
    }
    expect(api.running).toBe(true);
  }, 180_000);

  it.each([
    ['without a session', false],
    ['with an admin session', true],
  ])(
    'answers no 5xx (503 aside) %s, stays up, and its memory stays bounded',
    async (_label, withSession) => {
      const hangUps: string[] = [];
      let session = withSession ? await adminSession() : undefined;
      const baseline = rssMb(api.pid);
      const failures: string[] = [];
      const statuses: Record<number, number> = {};

      await fc.assert(
        fc.asyncProperty(
          // Controllers' routes mostly; now and then an unknown path (no route matches it).
          fc.oneof(
            {
              weight: 5,
              arbitrary: fc.constantFrom(...routes.filter((r) => !r.path.includes('*'))),
            },
            {
              weight: 1,
              arbitrary: fc.constantFrom(...UNKNOWN_PATHS),
            },
          ),
          fc.array(paramValue, { minLength: 1, maxLength: 3 }),
          queryString,
          body,
          headers,
          cookie,
          async (route, params, query, payload, extraHeaders, fuzzCookie) => {
            const path = fillPath(route.path, params) + (query ? `?${query}` : '');
            const requestHeaders: Record<string, string> = { ...extraHeaders };
            if (payload) requestHeaders['content-type'] = payload.type;
            if (session) {
              requestHeaders.cookie = fuzzCookie
                ? `${session.cookie}; ${fuzzCookie}`
                : session.cookie;
              if (!extraHeaders['x-csrf-token']) requestHeaders['x-csrf-token'] = session.csrfToken;
            } else if (fuzzCookie) {
              requestHeaders.cookie = fuzzCookie;
            }
            const headSize =
              path.length +
              Object.entries(requestHeaders).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
            const request = {
              method: route.method,
              path,
              headers: requestHeaders,
              body: payload?.text,
            };
            const res = await send(port, request).catch(async (error: Error) => {
              // Node refuses a request head over 16 KiB (431, connection closed) before any app code.
              if (headSize > MAX_HEAD_BYTES) return { status: 431, body: '', setCookie: [] };
              // A fresh connection reset before the request is even logged happens to a share of
              // fuzzed requests (open finding, see docs/reliability.md) and not when the same request
              // is replayed: counted and reported; the request is sent again and its answer checked.
              hangUps.push(`${route.method} ${path.slice(0, 80)}: ${error.message}`);
              for (let attempt = 1; ; attempt += 1) {
                try {
                  return await send(port, request);
                } catch (again) {
                  if (attempt >= 5) throw again;
                }
              }
            });
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
            if (res.status >= 500 && res.status !== 503) {
              failures.push(`${route.method} ${path} -> ${res.status} ${res.body.slice(0, 200)}`);
            }
            expect(res.body).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/); // never a stack trace
            // Logging out (or a session-ending route) ends the fuzzer's session: take a new one.
            if (session && res.status < 400 && /logout|\/sessions/.test(route.path))
              session = await adminSession();
            return res.status < 500 || res.status === 503;
          },
        ),
        { numRuns: RUNS, endOnFailure: false },
      );

      expect(failures).toEqual([]);
      expect(api.running).toBe(true);
      const live = await send(port, { method: 'GET', path: '/health/live', headers: {} });
      expect(live.status).toBe(200);
      const growth = rssMb(api.pid) - baseline;
      process.stdout.write(
        `[fuzz] ${RUNS} requests over ${routes.length} routes ${_label}: statuses ${JSON.stringify(statuses)}, connections closed without an answer ${hangUps.length}, RSS +${growth.toFixed(0)} MB\n`,
      );
      expect(growth).toBeLessThan(RSS_GROWTH_LIMIT_MB);
    },
    180_000,
  );
});
