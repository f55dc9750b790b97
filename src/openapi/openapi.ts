import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { RouteGroup } from '../http/route-group.decorator';
import { RouteInventory } from '../http/route-inventory';
import { CSRF_HEADER } from '../session/csrf';
import { SESSION_COOKIE } from '../session/session-loader';
import { ErrorView } from '../queues-api/dto/queue.views';
import { annotateRouteGroups } from './route-group-annotations';

export const DOCS_PATH = '/docs';
export const DOCS_JSON_PATH = '/docs-json';

/** The OpenAPI document generated from the controllers and DTOs, annotated with route groups. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('payouts-jobs API')
    .setDescription(
      'Queue monitoring and management, payouts, exports and login. Log in with POST /auth/login ' +
        `(session cookie \`${SESSION_COOKIE}\`), and send its csrfToken in ${CSRF_HEADER} on every ` +
        'POST/PUT/PATCH/DELETE. Each operation names its route group in `x-route-group`: public, ' +
        'authenticated (any logged-in user) or admin.',
    )
    .setVersion('1')
    .addServer('/', 'This server')
    .addCookieAuth(
      SESSION_COOKIE,
      { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
      'session',
    )
    .addApiKey({ type: 'apiKey', in: 'header', name: CSRF_HEADER }, 'csrf')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' }, 'metricsToken')
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorView] });
  annotateRouteGroups(document, app.get(RouteInventory).routes());
  return document;
}

/** Swagger UI at /docs and the JSON at /docs-json, public (no session is loaded). */
export function setupOpenApi(app: INestApplication): void {
  const document = buildOpenApiDocument(app);
  // Labels the docs' requests for the HTTP metrics (they are not Nest controller routes).
  app.use([DOCS_PATH, DOCS_JSON_PATH], (req: Request, _res: Response, next: NextFunction) => {
    req.routeGroup = RouteGroup.Public;
    next();
  });
  SwaggerModule.setup(DOCS_PATH.slice(1), app, document, {
    jsonDocumentUrl: DOCS_JSON_PATH.slice(1),
    raw: ['json'],
    customSiteTitle: 'payouts-jobs API',
  });
}
