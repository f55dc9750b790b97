import { Kysely, PostgresDialect } from 'kysely';
import { Client, Pool, PoolClient, types } from 'pg';
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
  const checkedOut = new Set<PoolClient>();
  pool.on('acquire', (client) => checkedOut.add(client));
  pool.on('release', (_error, client) => checkedOut.delete(client));
  const db = new Database({ dialect: new PostgresDialect({ pool }) });
  POOLS.set(db, pool);
  checkedOutClients.set(db, checkedOut);
  return db;
}

const checkedOutClients = new WeakMap<Database, Set<PoolClient>>();
const closing = new WeakMap<Database, Promise<void>>();

/**
 * Closes the pool (once per database, however many callers). The pool waits for connections
 * still checked out; after `graceMs` those are ended instead: at shutdown they belong to work
 * given up at the deadline (a transaction of a job that overran), and ending them rolls it back
 * and frees its row locks before the job runs elsewhere.
 */
export function closeDatabase(db: Database, graceMs = 1_000): Promise<void> {
  let closed = closing.get(db);
  if (!closed) {
    closed = endWithin(db, graceMs);
    closing.set(db, closed);
  }
  return closed;
}

async function endWithin(db: Database, graceMs: number): Promise<void> {
  const ended = db.destroy();
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([
    ended.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
  ]);
  clearTimeout(timer);
  if (!late) return;
  // end() sends Terminate and resolves once the server closed the session (its locks released).
  await Promise.allSettled(
    [...(checkedOutClients.get(db) ?? [])].map((client) => (client as unknown as Client).end()),
  );
}
