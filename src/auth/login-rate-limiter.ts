import { HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppConfig } from '../config';
import { RedisConnections } from '../redis/redis-connections';

/** 429: the attempt was not verified. The controller copies retryAfter into a Retry-After header. */
export class LoginThrottledException extends HttpException {
  constructor(readonly retryAfter: number) {
    super(
      {
        statusCode: 429,
        message: `Too many failed logins: try again in ${retryAfter} s`,
        retryAfter,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** What a login attempt holds once counted: give it back with succeeded(). */
export interface LoginAttempt {
  account: string;
  ip: string;
}

/**
 * Login throttling after rate-limiter-flexible's "login endpoint protection" recipe, with the
 * count taken BEFORE the password is checked: each attempt consumes a point (an atomic INCR in
 * Redis, shared by every instance), so 50 concurrent guesses get at most the limit verified.
 *
 * Three counters, consumed in this order, each only when the previous one let the attempt through:
 *   1. account + client IP, small (5 per 15 min): the limit an attacker meets;
 *   2. client IP, for any accounts (100 per day): slows one source trying many accounts;
 *   3. account, from all IPs (100 per hour): a ceiling against guessing from many sources.
 * A stranger's refused attempts never reach the per-account counter, so from one address they
 * cannot use up the ceiling and lock the owner out; the owner, from their own IP, is not
 * affected by the stranger's account+IP counter.
 * The key is the email as typed (normalised), whether or not the account exists, so answers do
 * not tell known accounts from unknown ones.
 */
@Injectable()
export class LoginRateLimiter {
  private readonly byAccountIp: RateLimiterRedis;
  private readonly byIp: RateLimiterRedis;
  private readonly byAccount: RateLimiterRedis;

  constructor(redis: RedisConnections, config: AppConfig) {
    const storeClient = redis.commands;
    const { perAccountIp, perIp, perAccount } = config.loginThrottle;
    const limiter = (keyPrefix: string, limit: { points: number; windowMs: number }) =>
      new RateLimiterRedis({
        storeClient,
        keyPrefix,
        points: limit.points,
        duration: Math.ceil(limit.windowMs / 1000),
      });
    this.byAccountIp = limiter('login:account-ip', perAccountIp);
    this.byIp = limiter('login:ip', perIp);
    this.byAccount = limiter('login:account', perAccount);
  }

  /** Counts the attempt, or throws 429 when one of the counters is used up (nothing verified then). */
  async begin(account: string, ip: string): Promise<LoginAttempt> {
    await consumeOrRefuse(this.byAccountIp, accountIpKey(account, ip));
    await consumeOrRefuse(this.byIp, ip);
    await consumeOrRefuse(this.byAccount, account);
    return { account, ip };
  }

  /**
   * A correct password: the account+IP count starts again, and the IP and account counters get
   * this attempt's point back (they count failures; an earlier stranger's stay counted).
   */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    await Promise.all([
      this.byAccountIp.delete(accountIpKey(attempt.account, attempt.ip)),
      this.byIp.reward(attempt.ip),
      this.byAccount.reward(attempt.account),
    ]);
  }
}

function accountIpKey(account: string, ip: string): string {
  return `${account}|${ip}`;
}

async function consumeOrRefuse(limiter: RateLimiterRedis, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    // consume() rejects with a RateLimiterRes when the limit is passed, an Error when Redis fails
    // (the exception filter answers 503 for that).
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    throw new LoginThrottledException(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
  }
}
