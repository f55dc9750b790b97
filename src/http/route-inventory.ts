import { Injectable, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { ROUTE_GROUP, RouteGroup } from './route-group.decorator';

export interface RouteEntry {
  /** Upper-case HTTP method (GET, POST, ...). */
  method: string;
  /** Express path as Nest registers it: `/queues/:name/jobs/:id`. */
  path: string;
  group: RouteGroup;
  controller: string;
  handler: string;
}

/**
 * Every controller route of the application with its route group, read once from Nest's
 * metadata (the same decorators the guard reads). Used to label HTTP metrics by group (the
 * guard may answer 401/403 before any interceptor runs, so the label is found from the matched
 * Express route) and to annotate the OpenAPI document.
 */
@Injectable()
export class RouteInventory {
  private entries?: RouteEntry[];
  private byRoute?: Map<string, RouteGroup>;
  private readonly answers = new Map<string, RouteGroup | undefined>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  routes(): RouteEntry[] {
    this.entries ??= this.discover();
    return this.entries;
  }

  /** The group of the route Express matched (`req.route.path`), or undefined for none of ours. */
  groupOf(method: string, routePath: string): RouteGroup | undefined {
    // Per request (HTTP metrics): the answers are kept by the raw pair, so the path is normalized
    // once per route. Bounded: routePath is a registered route's pattern, never a request's URL.
    const raw = `${method} ${routePath}`;
    if (this.answers.has(raw)) return this.answers.get(raw);
    this.byRoute ??= new Map(this.routes().map((r) => [`${r.method} ${r.path}`, r.group]));
    const group = this.byRoute.get(`${method === 'HEAD' ? 'GET' : method} ${normalize(routePath)}`);
    this.answers.set(raw, group);
    return group;
  }

  private discover(): RouteEntry[] {
    const entries: RouteEntry[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const { metatype, instance } = wrapper;
      if (!metatype || !instance) continue;
      const prefixes = asArray(this.reflector.get<string | string[]>(PATH_METADATA, metatype));
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[name] as (
          ...args: unknown[]
        ) => unknown;
        const paths = this.reflector.get<string | string[] | undefined>(PATH_METADATA, handler);
        const method = this.reflector.get<RequestMethod | undefined>(METHOD_METADATA, handler);
        if (paths === undefined || method === undefined) continue;
        const group =
          this.reflector.getAllAndOverride<RouteGroup | undefined>(ROUTE_GROUP, [
            handler,
            metatype,
          ]) ?? RouteGroup.Authenticated;
        for (const prefix of prefixes) {
          for (const path of asArray(paths)) {
            entries.push({
              method: RequestMethod[method],
              path: normalize(`${prefix}/${path}`),
              group,
              controller: metatype.name,
              handler: name,
            });
          }
        }
      }
    }
    return entries;
  }
}

function asArray(value: string | string[] | undefined): string[] {
  if (value === undefined) return [''];
  return Array.isArray(value) ? value : [value];
}

/** `queues//:name/` -> `/queues/:name`, as Express sees it. */
export function normalize(path: string): string {
  const joined = `/${path}`.replace(/\/{2,}/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}
