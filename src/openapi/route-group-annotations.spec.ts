import type { OpenAPIObject } from '@nestjs/swagger';
import { RouteGroup } from '../http/route-group.decorator';
import { normalize } from '../http/route-inventory';
import { annotateRouteGroups, toOpenApiPath } from './route-group-annotations';

describe('route-group annotations', () => {
  it('converts Express paths to OpenAPI paths', () => {
    expect(toOpenApiPath('/queues/:name/jobs/:id')).toBe('/queues/{name}/jobs/{id}');
    expect(normalize('queues//:name/')).toBe('/queues/:name');
    expect(normalize('/')).toBe('/');
  });

  it('writes the group, the security and the guard answers into each operation', () => {
    const document = {
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {
        '/health/live': { get: { responses: { 200: { description: 'ok' } } } },
        '/queues/{name}/pause': { post: { responses: { 200: { description: 'ok' } } } },
      },
    } as unknown as OpenAPIObject;
    annotateRouteGroups(document, [
      {
        method: 'GET',
        path: '/health/live',
        group: RouteGroup.Public,
        controller: 'HealthController',
        handler: 'live',
      },
      {
        method: 'POST',
        path: '/queues/:name/pause',
        group: RouteGroup.Admin,
        controller: 'QueuesController',
        handler: 'pause',
      },
    ]);
    const live = document.paths['/health/live'].get as unknown as Record<string, unknown>;
    expect(live).toMatchObject({ 'x-route-group': 'public', security: [], tags: ['health'] });
    const pause = document.paths['/queues/{name}/pause'].post as unknown as Record<string, unknown>;
    expect(pause).toMatchObject({
      'x-route-group': 'admin',
      security: [{ session: [], csrf: [] }],
    });
    expect(Object.keys(pause.responses as object).sort()).toEqual(['200', '401', '403', '503']);
  });
});
