import * as fs from 'node:fs';
import * as path from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const services = require('../../scripts/lib/services.cjs');

/** Runs once per e2e project: the first stops the servers, the second finds nothing left. */
export default async function globalTeardown(): Promise<void> {
  const state = globalThis as Record<string, unknown>;
  const bouncer = state.__TEST_PGBOUNCER__ as { stop(): Promise<void> } | undefined;
  delete state.__TEST_PGBOUNCER__;
  await bouncer?.stop();
  const postgres = state.__TEST_POSTGRES__ as
    | { stop(options: { remove: boolean }): Promise<void> }
    | undefined;
  delete state.__TEST_POSTGRES__;
  await postgres?.stop({ remove: true });

  fs.rmSync(process.env.TEST_RUN_DIR ?? path.join(services.DATA, `test-${process.pid}`), {
    recursive: true,
    force: true,
  });
}
