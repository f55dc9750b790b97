import { Matches } from 'class-validator';
import { EnvBoolean, EnvInt } from './decorators';

export class DatabaseEnv {
  /** postgres://user:password@host:port/database (PostgreSQL is the source of truth for business data). */
  @Matches(/^postgres(ql)?:\/\/[^\s]+$/, { message: 'must be a postgres:// or postgresql:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/payouts';

  /**
   * Connections in each process's pool. A payout job holds one for its whole run (its advisory
   * lock), a notification job for its SMTP exchange: keep it above those two concurrencies.
   */
  @EnvInt(1, 200)
  DATABASE_POOL_SIZE = 20;

  /** Run pending migrations at start (under an advisory lock, so concurrent starts are safe). */
  @EnvBoolean()
  MIGRATE_ON_START = true;
}
