/**
 * Jest setup file of the e2e projects: whether apps under test reach PostgreSQL directly or
 * through the run's PgBouncer (transaction mode), from the project's `globals.databaseRoute`.
 * A Jest worker runs files of both projects in turn, so each file sets it (testEnv reads it).
 */
const route = (globalThis as { databaseRoute?: string }).databaseRoute;
if (route === 'pgbouncer' || process.env.TEST_DATABASE_VIA_PGBOUNCER === '1') {
  process.env.TEST_PGBOUNCER_URL = process.env.TEST_PGBOUNCER_SERVER_URL;
} else {
  delete process.env.TEST_PGBOUNCER_URL;
}
