import type { UserRole } from '../database';

/**
 * What a session remembers of its user at login. The role is read again from PostgreSQL on each
 * request (SessionAuthenticator): req.user has the current one.
 */
export interface SessionUser {
  id: number;
  email: string;
  role: UserRole;
}

declare module 'express-session' {
  interface SessionData {
    user?: SessionUser;
    /** Synchronizer token: cookie-authenticated mutations must echo it in X-CSRF-Token. */
    csrfToken?: string;
    /** Login time (epoch ms): the session ends SESSION_MAX_AGE after it, however active. */
    loggedInAt?: number;
    /** The user's session_generation at login: a higher one in PostgreSQL ends this session. */
    generation?: number;
  }
}

declare module 'express' {
  interface Request {
    user?: SessionUser;
  }
}
