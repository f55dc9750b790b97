import { applyDecorators, SetMetadata } from '@nestjs/common';

/**
 * Every route belongs to one group. Undecorated routes are `authenticated`: forgetting the
 * decorator can never open a route to the public.
 */
export enum RouteGroup {
  /** No session is loaded and Redis is not touched (health, login, API docs). */
  Public = 'public',
  /** A logged-in user of any role (monitoring reads). */
  Authenticated = 'authenticated',
  /**
   * A logged-in operator or admin: reads that reach past the monitoring summaries into what
   * the platform did across requests (a request's whole trail of jobs).
   */
  Operator = 'operator',
  /** A logged-in admin (every mutation of queues and payouts). */
  Admin = 'admin',
}

export const ROUTE_GROUP = 'route-group';

export const Public = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_GROUP, RouteGroup.Public);
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_GROUP, RouteGroup.Authenticated);
export const Operator = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_GROUP, RouteGroup.Operator);
export const Admin = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(ROUTE_GROUP, RouteGroup.Admin));
