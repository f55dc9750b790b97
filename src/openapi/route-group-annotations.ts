import type { OpenAPIObject } from '@nestjs/swagger';
import type {
  OperationObject,
  ResponsesObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { RouteGroup } from '../http/route-group.decorator';
import type { RouteEntry } from '../http/route-inventory';

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const ERROR_SCHEMA = { $ref: '#/components/schemas/ErrorView' };

/** `/queues/:name/jobs/:id` -> `/queues/{name}/jobs/{id}`. */
export function toOpenApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Writes each route's group into the document from the same metadata the guard enforces, so
 * the docs cannot drift from the access rules: `x-route-group`, the security it needs (session
 * cookie; plus the X-CSRF-Token header on mutations; none for public routes) and the 401/403/503
 * answers the guard and the exception filter give.
 */
export function annotateRouteGroups(document: OpenAPIObject, routes: RouteEntry[]): void {
  for (const route of routes) {
    const operation = document.paths[toOpenApiPath(route.path)]?.[
      route.method.toLowerCase() as 'get'
    ] as (OperationObject & Record<string, unknown>) | undefined;
    if (!operation) continue;
    operation['x-route-group'] = route.group;
    if (!operation.tags?.length) operation.tags = [tagOf(route.controller)];
    if (route.group === RouteGroup.Public) {
      operation.security ??= [];
      continue;
    }
    const mutation = MUTATIONS.has(route.method);
    operation.security = [mutation ? { session: [], csrf: [] } : { session: [] }];
    const responses: ResponsesObject = operation.responses;
    responses['401'] ??= errorResponse('No session: log in with POST /auth/login');
    if (route.group === RouteGroup.Admin || route.group === RouteGroup.Operator || mutation) {
      responses['403'] ??= errorResponse(
        route.group === RouteGroup.Admin
          ? 'Not an admin, or the X-CSRF-Token header is missing or wrong'
          : route.group === RouteGroup.Operator
            ? 'Not an operator or admin'
            : 'The X-CSRF-Token header is missing or wrong',
      );
    }
    responses['503'] ??= errorResponse('Redis or PostgreSQL is unavailable; retry shortly');
  }
}

function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: ERROR_SCHEMA } } };
}

function tagOf(controller: string): string {
  return controller.replace(/Controller$/, '').toLowerCase();
}
