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

/** The pg.Pool under each Database, for the pool gauges (Kysely does not expose its pool). */
const POOLS = new WeakMap<Database, Pool>();

export function poolOf(db: Database): Pool | undefined {
  return POOLS.get(db);
}

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  onPoolError?: (error: Error) => void;
}

export function createDatabase({ url, poolSize, onPoolError }: DatabaseOptions): Database {
  const pool = new Pool({
    connectionString: url,
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
  const db = new Database({ dialect: new PostgresDialect({ pool }) });
  POOLS.set(db, pool);
  return db;
}
