import * as path from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const services = require('../../scripts/lib/services.cjs');

/**
 * One throwaway PostgreSQL cluster for the whole run (each test file creates its own database
 * in it); each test file starts its own throwaway Redis (startTestRedis in test/support/services.ts).
 * Also one PgBouncer (transaction mode) in front of it, which apps under test reach their
 * database through in the `e2e (PgBouncer)` project, or in every project with
 * TEST_DATABASE_VIA_PGBOUNCER=1 (test/support/database-route.ts, testEnv).
 * Nothing here touches a server the tests did not start.
 */
export default async function globalSetup(): Promise<void> {
  // Every throwaway server of this run keeps its files here; the teardown removes the folder.
  // Each e2e project runs this; the second finds the servers of the first (one Jest process).
  const runDir = path.join(services.DATA, `test-${process.pid}`);
  process.env.TEST_RUN_DIR = runDir;
  const state = globalThis as Record<string, unknown>;
  // A cluster given by the caller is used as is (databases are still created per file).
  if (!process.env.TEST_POSTGRES_URL) {
    const postgres = await services.startPostgres({
      dir: path.join(runDir, 'postgres'),
      fast: true,
    });
    process.env.TEST_POSTGRES_URL = postgres.url;
    state.__TEST_POSTGRES__ = postgres;
  }
  // The `e2e (PgBouncer)` project runs the payout suite through it (test/support/database-route.ts).
  if (!state.__TEST_PGBOUNCER__) {
    const bouncer = await services.startPgBouncer({
      dir: path.join(runDir, 'pgbouncer'),
      postgresUrl: process.env.TEST_POSTGRES_URL,
      poolSize: 10,
    });
    process.env.TEST_PGBOUNCER_SERVER_URL = bouncer.url;
    state.__TEST_PGBOUNCER__ = bouncer;
  }
}
