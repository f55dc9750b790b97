import { Kysely, PostgresDialect } from 'kysely';
import { Pool, types } from 'pg';
import type { DatabaseSchema } from './database.schema';

// int8 (bigint, count(*)) as JS numbers: amounts are integer minor units far below 2^53.
types.setTypeParser(types.builtins.INT8, (value) => {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed))
    throw new RangeError(`int8 value ${value} exceeds the safe integer range`);
  return parsed;
});

/** The typed query builder, injected by class. Transactions are explicit: `db.transaction().execute(...)`. */
export class Database extends Kysely<DatabaseSchema> {}

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  onPoolError?: (error: Error) => void;
  /** Shown in pg_stat_activity, to tell this pool's connections from the process's main pool. */
  applicationName?: string;
}

export function createDatabase({
  url,
  poolSize,
  onPoolError,
  applicationName,
}: DatabaseOptions): Database {
  const pool = new Pool({
    connectionString: url,
    ...(applicationName ? { application_name: applicationName } : {}),
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection killed by the server (restart, pg_terminate_backend) must not crash the process.
  pool.on('error', (error) => onPoolError?.(error));
  // Nor one that is checked out between queries (inside a transaction): node-postgres emits
  // 'error' on the client itself then, and an 'error' without a listener kills the process.
  // Its next query fails and the job retries.
  pool.on('connect', (client) => client.on('error', (error) => onPoolError?.(error)));
  return new Database({ dialect: new PostgresDialect({ pool }) });
}
