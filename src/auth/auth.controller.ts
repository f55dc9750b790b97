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
import { UserRole } from '../database';
import { ApiError } from '../openapi/api-errors.decorator';
import { Authenticated, Public } from '../http/route-group.decorator';
import { newCsrfToken } from '../session/csrf';
import { SESSION_COOKIE, SessionLoader } from '../session/session-loader';
import { SessionUser } from '../session/session-user';
import { UsersService } from '../users/users.service';
import { LoginRateLimiter } from './login-rate-limiter';
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
  ) {}

  /** Public (no session before it); it opens one itself, under a new ID (no fixation). */
  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in: opens a session (cookie) and answers its CSRF token' })
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
    const ip = req.ip ?? 'unknown';
    await this.limiter.assertAllowed(account, ip);
    const user = await this.users.verify(account, body.password);
    if (!user) {
      await this.limiter.recordFailure(account, ip);
      throw new UnauthorizedException(INVALID_LOGIN);
    }
    await this.limiter.recordSuccess(account);
    await this.sessions.load(req, res);
    await promisify((done) => req.session.regenerate(done));
    const sessionUser: SessionUser = { id: user.id, email: user.email, role: user.role };
    req.session.user = sessionUser;
    req.session.csrfToken = newCsrfToken();
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
    await promisify((done) => req.session.destroy(done));
    res.clearCookie(SESSION_COOKIE);
  }

  @Authenticated()
  @Get('me')
  @ApiOperation({ summary: 'The logged-in user and the CSRF token of the session' })
  @ApiOkResponse({ type: SessionView })
  me(@Req() req: Request): SessionView {
    return { user: req.session.user as SessionUser, csrfToken: req.session.csrfToken as string };
  }
}

function promisify(fn: (done: (error?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((error) => (error ? reject(error) : resolve())));
}
