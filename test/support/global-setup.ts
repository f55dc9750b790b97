import * as path from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const services = require('../../scripts/lib/services.cjs');

/**
 * One throwaway PostgreSQL cluster for the whole run (each test file creates its own database
 * in it); each test file starts its own throwaway Redis (startTestRedis in test/support/services.ts).
 * Nothing here touches a server the tests did not start.
 */
export default async function globalSetup(): Promise<void> {
  // Every throwaway server of this run keeps its files here; the teardown removes the folder.
  process.env.TEST_RUN_DIR = path.join(services.DATA, `test-${process.pid}`);
  if (process.env.TEST_POSTGRES_URL) return; // a cluster given by the caller (databases are still created per file)
  const dir = path.join(services.DATA, `test-${process.pid}`, 'postgres');
  const postgres = await services.startPostgres({ dir, fast: true });
  process.env.TEST_POSTGRES_URL = postgres.url;
  (globalThis as Record<string, unknown>).__TEST_POSTGRES__ = postgres;
}
