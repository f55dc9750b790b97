import { HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RedisConnections } from '../redis/redis-connections';

const WINDOW_SECONDS = 15 * 60;
/** Failed logins allowed per account, and per client IP, in each window. */
export const MAX_FAILURES_PER_ACCOUNT = 5;
export const MAX_FAILURES_PER_IP = 30;

/**
 * Counts failed logins in Redis, so the limits hold across every API instance.
 * A successful login clears its account's count.
 */
@Injectable()
export class LoginRateLimiter {
  private readonly byAccount: RateLimiterRedis;
  private readonly byIp: RateLimiterRedis;

  constructor(redis: RedisConnections) {
    const storeClient = redis.commands;
    this.byAccount = new RateLimiterRedis({
      storeClient,
      keyPrefix: 'login-fail:account',
      points: MAX_FAILURES_PER_ACCOUNT,
      duration: WINDOW_SECONDS,
    });
    this.byIp = new RateLimiterRedis({
      storeClient,
      keyPrefix: 'login-fail:ip',
      points: MAX_FAILURES_PER_IP,
      duration: WINDOW_SECONDS,
    });
  }

  /** Throws 429 when either count is already used up. */
  async assertAllowed(account: string, ip: string): Promise<void> {
    const [accountState, ipState] = await Promise.all([
      this.byAccount.get(account),
      this.byIp.get(ip),
    ]);
    const blocked = [
      [accountState, MAX_FAILURES_PER_ACCOUNT],
      [ipState, MAX_FAILURES_PER_IP],
    ].find(
      ([state, max]) =>
        state !== null && (state as RateLimiterRes).consumedPoints >= (max as number),
    );
    if (blocked) {
      const retryAfter = Math.ceil((blocked[0] as RateLimiterRes).msBeforeNext / 1000);
      throw new HttpException(
        {
          statusCode: 429,
          message: `Too many failed logins: try again in ${retryAfter} s`,
          retryAfter,
        },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
  }

  async recordFailure(account: string, ip: string): Promise<void> {
    // penalty() counts without throwing when the limit is passed (assertAllowed does that).
    await Promise.all([this.byAccount.penalty(account), this.byIp.penalty(ip)]);
  }

  async recordSuccess(account: string): Promise<void> {
    await this.byAccount.delete(account);
  }
}
