import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { UsersModule } from '../users/users.module';
import { RouteGroupGuard } from './route-group.guard';
import { SessionAuthenticator } from './session-authenticator';
import { SessionLoader } from './session-loader';

/** Redis-backed sessions and the route-group guard, for the roles that serve HTTP. */
@Global()
@Module({
  imports: [UsersModule],
  providers: [
    SessionLoader,
    SessionAuthenticator,
    { provide: APP_GUARD, useClass: RouteGroupGuard },
  ],
  exports: [SessionLoader, SessionAuthenticator],
})
export class SessionModule {}
