import * as path from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const services = require('../../scripts/lib/services.cjs');

/**
 * One throwaway PostgreSQL cluster for the whole run (each test file creates its own database
 * in it); each test file starts its own throwaway Redis (see test/support/redis.ts).
 * Nothing here touches a server the tests did not start.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_POSTGRES_URL) return; // started by scripts/test.mjs
  const dir = path.join(services.DATA, `test-${process.pid}`, 'postgres');
  const postgres = await services.startPostgres({ dir, fast: true });
  process.env.TEST_POSTGRES_URL = postgres.url;
  (globalThis as Record<string, unknown>).__TEST_POSTGRES__ = postgres;
}
