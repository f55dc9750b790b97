import type { UserRole } from '../database';

/** What a session remembers of its user; the role is re-read from PostgreSQL at login only. */
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
  }
}

declare module 'express' {
  interface Request {
    user?: SessionUser;
  }
}
