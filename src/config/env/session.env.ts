import { IsOptional, IsString, MinLength } from 'class-validator';
import { EnvBoolean, EnvDuration } from './decorators';

export class SessionEnv {
  /**
   * Signs session cookies. Comma-separated for rotation: the first signs, all verify.
   * Required in production; elsewhere a development-only secret is used when unset.
   */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters (each secret, comma-separated)' })
  SESSION_SECRET?: string;

  /** Idle lifetime of a session: cookie max-age and Redis TTL, renewed on each request. */
  @EnvDuration(1_000)
  SESSION_TTL = 86_400_000;

  /**
   * Absolute lifetime of a session from its login, however active it is: a rolling session would
   * otherwise live for as long as it is used.
   */
  @EnvDuration(1_000)
  SESSION_MAX_AGE = 7 * 86_400_000;

  /** Correlation IDs on requests, logs and job data; false removes the work from the request path. */
  @EnvBoolean()
  ENABLE_CORRELATION_IDS = true;

  /** Creates this admin at start when no user has the email yet (with BOOTSTRAP_ADMIN_PASSWORD). */
  @IsOptional()
  @IsString()
  BOOTSTRAP_ADMIN_EMAIL?: string;

  @IsOptional()
  @IsString()
  @MinLength(12, { message: 'must be at least 12 characters' })
  BOOTSTRAP_ADMIN_PASSWORD?: string;
}
