import request from 'supertest';
import { RouteGroup } from '../../src/http/route-group.decorator';
import { RouteInventory } from '../../src/http/route-inventory';
import { toOpenApiPath } from '../../src/openapi/route-group-annotations';
import { createHttpApp, HttpApp } from '../support/http-app';
import { createTestDatabase, startTestRedis, testEnv, TestRedis } from '../support/services';

interface ExpressLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/** The routes Express actually serves, read from its router (not from Nest's metadata). */
function expressRoutes(http: HttpApp): Array<{ method: string; path: string }> {
  const express = http.app.getHttpAdapter().getInstance() as { router: { stack: ExpressLayer[] } };
  return express.router.stack.flatMap((layer) => {
    if (!layer.route) return [];
    const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
    return paths.flatMap((path) =>
      Object.keys(layer.route!.methods)
        .filter((method) => method !== '_all')
        .map((method) => ({ method: method.toUpperCase(), path })),
    );
  });
}

/**
 * Not API operations: the documentation's own routes (SwaggerModule) and Nest's catch-all
 * not-found handlers (`/{*path}`, every method).
 */
const NOT_OPERATIONS = /^\/docs(-json)?(\/|$)|^\/\{\*path\}$/;

describe('OpenAPI document', () => {
  let redis: TestRedis;
  let http: HttpApp;
  let document: {
    paths: Record<string, Record<string, Record<string, unknown>>>;
    components: { securitySchemes: Record<string, unknown> };
  };

  beforeAll(async () => {
    redis = await startTestRedis();
    http = await createHttpApp(testEnv(redis.url, await createTestDatabase(), { APP_ROLE: 'api' }));
    const res = await request(http.server).get('/docs-json').expect(200);
    document = res.body;
  });

  afterAll(async () => {
    await http?.close();
    await redis?.stop();
  });

  it('documents every route Express serves, with its route group', () => {
    const routes = expressRoutes(http).filter((route) => !NOT_OPERATIONS.test(route.path));
    expect(routes.length).toBeGreaterThan(15);
    const inventory = http.app.get(RouteInventory);
    const missing: string[] = [];
    for (const route of routes) {
      const operation = document.paths[toOpenApiPath(route.path)]?.[route.method.toLowerCase()];
      if (!operation) {
        missing.push(`${route.method} ${route.path}`);
        continue;
      }
      // The group in the document is the one the guard enforces.
      expect(operation['x-route-group']).toBe(inventory.groupOf(route.method, route.path));
    }
    expect(missing).toEqual([]);
    // And nothing is documented that is not served.
    const served = new Set(routes.map((r) => `${r.method.toLowerCase()} ${toOpenApiPath(r.path)}`));
    const documented = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    expect(documented.filter((op) => !served.has(op))).toEqual([]);
  });

  it('gives public routes no security and others the session cookie, plus CSRF on mutations', () => {
    const live = document.paths['/health/live'].get;
    expect(live['x-route-group']).toBe(RouteGroup.Public);
    expect(live.security).toEqual([]);
    const list = document.paths['/queues'].get;
    expect(list['x-route-group']).toBe(RouteGroup.Authenticated);
    expect(list.security).toEqual([{ session: [] }]);
    const retry = document.paths['/queues/{name}/jobs/{id}/retry'].post;
    expect(retry['x-route-group']).toBe(RouteGroup.Admin);
    expect(retry.security).toEqual([{ session: [], csrf: [] }]);
    expect(Object.keys(retry.responses as object)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '409', '503']),
    );
    expect(document.components.securitySchemes).toHaveProperty('session');
  });

  it('describes request and response schemas from the DTOs', () => {
    const clean = document.paths['/queues/{name}/clean'].post as {
      requestBody: { content: Record<string, { schema: { $ref: string } }> };
      responses: Record<string, { content: Record<string, { schema: { $ref: string } }> }>;
    };
    expect(clean.requestBody.content['application/json'].schema.$ref).toMatch(/CleanQueueDto$/);
    expect(clean.responses['200'].content['application/json'].schema.$ref).toMatch(/CleanView$/);
    const list = document.paths['/queues/{name}/jobs'].get as {
      parameters: Array<{ name: string; in: string }>;
    };
    expect(list.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(
      expect.arrayContaining(['path:name', 'query:state', 'query:cursor', 'query:limit']),
    );
  });

  it('serves Swagger UI at /docs without a session', async () => {
    const res = await request(http.server).get('/docs/').expect(200);
    expect(res.text).toMatch(/swagger-ui/i);
  });
});
