import {
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Req,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Audited } from '../audit/audited.decorator';
import { UserRole } from '../database';
import { CurrentUser } from '../http/current-user.decorator';
import { ApiError } from '../openapi/api-errors.decorator';
import { Authenticated, Public } from '../http/route-group.decorator';
import { newCsrfToken } from '../session/csrf';
import { SessionAuthenticator } from '../session/session-authenticator';
import { SessionLoader } from '../session/session-loader';
import { SessionUser } from '../session/session-user';
import { UsersService } from '../users/users.service';
import { LoginRateLimiter, LoginThrottledException } from './login-rate-limiter';
import { LoginDto } from './login.dto';

const ROLES: UserRole[] = ['admin', 'operator', 'viewer'];

export class SessionUserView implements SessionUser {
  @ApiProperty() id!: number;
  @ApiProperty() email!: string;
  @ApiProperty({ enum: ROLES }) role!: UserRole;
}

export class SessionView {
  @ApiProperty({ type: SessionUserView }) user!: SessionUser;
  /** Send it back in X-CSRF-Token on every POST/PUT/PATCH/DELETE. */
  @ApiProperty({ description: 'Send it back in X-CSRF-Token on every POST/PUT/PATCH/DELETE' })
  csrfToken!: string;
}

const INVALID_LOGIN = 'Invalid email or password';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly users: UsersService,
    private readonly limiter: LoginRateLimiter,
    private readonly sessions: SessionLoader,
    private readonly authenticator: SessionAuthenticator,
  ) {}

  /** Public (no session before it); it opens one itself, under a new ID (no fixation). */
  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Log in: opens a session (cookie `sid`) and answers its CSRF token',
    description:
      'Throttled per account+client IP, per IP and per account (429 with Retry-After). ' +
      'An unknown email, a wrong password and a disabled account get the same 401.',
  })
  @ApiOkResponse({ type: SessionView })
  @ApiError(400, 'Malformed email or password: the message lists each problem')
  @ApiError(401, 'Invalid email or password')
  @ApiError(429, 'Too many failed logins for this account or address: retry after Retry-After')
  async login(
    @Body() body: LoginDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SessionView> {
    const account = body.email.trim().toLowerCase();
    // req.ip honours TRUST_PROXY: behind a proxy it is the client's address, not the proxy's.
    const ip = req.ip ?? 'unknown';
    // Counted before the password is checked, so concurrent guesses cannot exceed the limits.
    const attempt = await this.limiter.begin(account, ip).catch((error: unknown) => {
      if (error instanceof LoginThrottledException)
        res.setHeader('Retry-After', String(error.retryAfter));
      throw error;
    });
    const user = await this.users.verify(account, body.password);
    if (!user) throw new UnauthorizedException(INVALID_LOGIN);
    await this.limiter.succeeded(attempt);
    await this.sessions.load(req, res);
    await promisify((done) => req.session.regenerate(done));
    const sessionUser: SessionUser = { id: user.id, email: user.email, role: user.role };
    req.session.user = sessionUser;
    req.session.csrfToken = newCsrfToken();
    req.session.loggedInAt = Date.now();
    req.session.generation = user.session_generation;
    await promisify((done) => req.session.save(done));
    return { user: sessionUser, csrfToken: req.session.csrfToken };
  }

  /** Destroys the session in Redis: the cookie is refused by every instance from now on. */
  @Authenticated()
  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Log out: destroys the session on every instance' })
  @ApiNoContentResponse({ description: 'Logged out; the cookie is cleared' })
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.authenticator.end(req, res);
  }

  /** Every session of the caller, on every instance, this one included. */
  @Authenticated()
  @Post('logout-all')
  @HttpCode(204)
  @Audited('auth.logout-all', (req) => `users/${req.user?.id}`)
  @ApiOperation({
    summary: 'Log out everywhere: ends every session of the current user, this one included',
  })
  @ApiNoContentResponse({ description: 'All sessions of the user ended' })
  async logoutAll(
    @CurrentUser() user: SessionUser,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    await this.users.endSessions(user.id);
    await this.authenticator.end(req, res);
  }

  @Authenticated()
  @Get('me')
  @ApiOperation({ summary: 'The logged-in user (role as it is now) and the CSRF token' })
  @ApiOkResponse({ type: SessionView })
  me(@CurrentUser() user: SessionUser, @Req() req: Request): SessionView {
    return { user, csrfToken: req.session.csrfToken as string };
  }
}

function promisify(fn: (done: (error?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((error) => (error ? reject(error) : resolve())));
}
