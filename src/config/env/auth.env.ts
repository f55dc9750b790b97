import { EnvDuration, EnvInt } from './decorators';

/**
 * Login throttling. Each attempt takes a point from three counters in Redis before the password
 * is checked (a successful login gives its points back), so concurrent guesses cannot overtake
 * the limits. The per account+IP limit is the one attackers meet; the per-account ceiling is much
 * higher, so a stranger guessing from elsewhere slows the account down without locking its owner
 * out (see docs/operations.md, "Login throttling").
 */
export class AuthEnv {
  /** Failed logins allowed for one account from one client IP in each LOGIN_ACCOUNT_IP_WINDOW. */
  @EnvInt(1, 1_000_000)
  LOGIN_FAILURES_PER_ACCOUNT_IP = 5;

  @EnvDuration(1_000)
  LOGIN_ACCOUNT_IP_WINDOW = 15 * 60_000;

  /** Failed logins allowed from one client IP, for any accounts, in each LOGIN_IP_WINDOW. */
  @EnvInt(1, 1_000_000)
  LOGIN_FAILURES_PER_IP = 100;

  @EnvDuration(1_000)
  LOGIN_IP_WINDOW = 86_400_000;

  /** Failed logins allowed for one account from all IPs together in each LOGIN_ACCOUNT_WINDOW. */
  @EnvInt(1, 1_000_000)
  LOGIN_FAILURES_PER_ACCOUNT = 100;

  @EnvDuration(1_000)
  LOGIN_ACCOUNT_WINDOW = 3_600_000;
}
