import { IsOptional, Matches } from 'class-validator';
import { EnvBoolean, EnvInt } from './decorators';

export class DatabaseEnv {
  /** postgres://user:password@host:port/database (PostgreSQL is the source of truth for business data). */
  @Matches(/^postgres(ql)?:\/\/[^\s]+$/, { message: 'must be a postgres:// or postgresql:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/payouts';

  /**
   * A direct connection for work that needs a session of its own: the migrations, which hold a
   * session-level advisory lock for the whole run. Set it when DATABASE_URL goes through a pooler
   * in transaction mode (PgBouncer), which lends a server connection for one transaction only and
   * would leave that lock on a connection nobody owns. Unset: DATABASE_URL.
   */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/[^\s]+$/, { message: 'must be a postgres:// or postgresql:// URL' })
  DATABASE_MIGRATION_URL?: string;

  /**
   * Connections in each process's pool. Jobs hold one only for each short statement (a payout
   * holds none while the provider is called), so a few serve any concurrency (docs/deployment.md).
   */
  @EnvInt(1, 200)
  DATABASE_POOL_SIZE = 20;

  /** Run pending migrations at start (under an advisory lock, so concurrent starts are safe). */
  @EnvBoolean()
  MIGRATE_ON_START = true;
}
