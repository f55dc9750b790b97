import { Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppConfig } from '../config';
import { UsersService, UserSessionState } from '../users/users.service';
import { SESSION_COOKIE, SessionLoader } from './session-loader';
import { SessionUser } from './session-user';

/**
 * Who is behind a request's session, as they are NOW. On each authenticated request the user's
 * row is read by primary key (role, disabled, session generation): a demoted user has the new
 * role on the next request, and a disabled user or a session ended elsewhere (log out
 * everywhere, an admin) is refused on the next request, on every instance, with no cache to
 * invalidate. A session past SESSION_MAX_AGE since its login is refused however active it is.
 * A refused session is destroyed in Redis and its cookie cleared.
 */
@Injectable()
export class SessionAuthenticator {
  private readonly logger = new Logger('Sessions');
  private readonly maxAgeMs: number;

  constructor(
    private readonly sessions: SessionLoader,
    private readonly users: UsersService,
    config: AppConfig,
  ) {
    this.maxAgeMs = config.session.maxAgeMs;
  }

  /** The session's user, fresh from PostgreSQL; undefined when there is none or it has ended. */
  async authenticate(req: Request, res: Response): Promise<SessionUser | undefined> {
    await this.sessions.load(req, res);
    const session = req.session;
    if (!session.user) return undefined;
    const state = await this.users.sessionState(session.user.id);
    const refusal = this.refusalOf(session.loggedInAt, session.generation, state);
    if (refusal) {
      this.logger.log(`Session of user ${session.user.id} refused: ${refusal}`);
      await this.end(req, res);
      return undefined;
    }
    return { id: state!.id, email: state!.email, role: state!.role };
  }

  /** Destroys the request's session in Redis and clears its cookie. */
  async end(req: Request, res: Response): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      req.session.destroy((error) => (error ? reject(error) : resolve())),
    );
    res.clearCookie(SESSION_COOKIE);
  }

  private refusalOf(
    loggedInAt: number | undefined,
    generation: number | undefined,
    state: UserSessionState | undefined,
  ): string | undefined {
    // Sessions opened before these fields existed have neither: they end once (log in again).
    if (loggedInAt === undefined || Date.now() - loggedInAt >= this.maxAgeMs)
      return 'older than SESSION_MAX_AGE';
    if (!state) return 'the user no longer exists';
    if (state.disabled_at) return 'the user is disabled';
    if (generation !== state.session_generation) return "the user's sessions were ended";
    return undefined;
  }
}
