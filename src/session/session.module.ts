import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RouteGroupGuard } from './route-group.guard';
import { SessionLoader } from './session-loader';

/** Redis-backed sessions and the route-group guard, for the roles that serve HTTP. */
@Global()
@Module({
  providers: [SessionLoader, { provide: APP_GUARD, useClass: RouteGroupGuard }],
  exports: [SessionLoader],
})
export class SessionModule {}
