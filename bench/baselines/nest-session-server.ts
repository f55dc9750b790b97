import 'reflect-metadata';
import {
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  HttpCode,
  Injectable,
  Module,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { RedisStore } from 'connect-redis';
import type { Request } from 'express';
import session from 'express-session';
import Redis from 'ioredis';
import type { AddressInfo } from 'node:net';
import { ParentChannel } from '../lib/child-side';

/**
 * The baseline of the authenticated route (issue 17): bare NestJS (Express) with express-session
 * and connect-redis mounted the usual way (app.use in main) and a guard that refuses a request
 * without a session user, the way a NestJS app without the project's layers would be written.
 * Session settings as the project's SessionLoader: cookie `sid`, prefix `sess:`, store TTL in
 * whole seconds, a secret list, resave and saveUninitialized off, rolling 24 h sessions, a
 * secure httpOnly lax cookie behind a trusted loopback proxy; the ioredis client has the
 * project's command-client options (maxRetriesPerRequest 1, offline queue on).
 * POST /auth/login opens a session without checking a password; GET /auth/me answers 401
 * without a session user, the user and its CSRF token otherwise. What it does not do that the
 * project does per request: read the user's row from PostgreSQL (role, disabled, session
 * generation), log the request, correlation, metrics, security headers.
 */
type BenchSession = session.Session & {
  user?: { id: number; email: string; role: string };
  csrfToken?: string;
  loggedInAt?: number;
};

@Injectable()
class SessionUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (!(req.session as BenchSession | undefined)?.user) {
      throw new UnauthorizedException('Log in first');
    }
    return true;
  }
}

@Controller('auth')
class AuthController {
  @Post('login')
  @HttpCode(200)
  async login(@Req() req: Request): Promise<{ user: BenchSession['user']; csrfToken: string }> {
    await new Promise<void>((resolve, reject) =>
      req.session.regenerate((error) => (error ? reject(error) : resolve())),
    );
    const opened = req.session as BenchSession;
    opened.user = { id: 1, email: 'bench@localhost', role: 'admin' };
    opened.csrfToken = 'bench-csrf-token';
    opened.loggedInAt = Date.now();
    await new Promise<void>((resolve, reject) =>
      req.session.save((error) => (error ? reject(error) : resolve())),
    );
    return { user: opened.user, csrfToken: opened.csrfToken };
  }

  @Get('me')
  @UseGuards(SessionUserGuard)
  me(@Req() req: Request): { user: BenchSession['user']; csrfToken: string | undefined } {
    const current = req.session as BenchSession;
    return { user: current.user, csrfToken: current.csrfToken };
  }
}

@Module({ controllers: [AuthController], providers: [SessionUserGuard] })
class NestSessionModule {}

async function main(): Promise<void> {
  const channel = new ParentChannel();
  const redis = new Redis(process.env.REDIS_URL as string, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
  });
  try {
    const ttlMs = 86_400_000;
    const app = await NestFactory.create<NestExpressApplication>(NestSessionModule, {
      logger: ['error', 'warn'],
      forceCloseConnections: true,
    });
    app.set('trust proxy', 'loopback');
    app.use(
      session({
        name: 'sid',
        store: new RedisStore({ client: redis, prefix: 'sess:', ttl: Math.ceil(ttlMs / 1000) }),
        secret: [process.env.SESSION_SECRET as string],
        resave: false,
        saveUninitialized: false,
        rolling: true,
        cookie: { httpOnly: true, sameSite: 'lax', secure: true, maxAge: ttlMs },
      }),
    );
    await app.listen(0, '127.0.0.1');
    channel.onStop(async () => {
      await app.close();
      redis.disconnect();
    });
    channel.send({ type: 'ready', port: (app.getHttpServer().address() as AddressInfo).port });
  } catch (error) {
    channel.fail(error);
    process.exit(1);
  }
}

void main();
