import * as fs from 'node:fs';
import * as path from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const services = require('../../scripts/lib/services.cjs');

export default async function globalTeardown(): Promise<void> {
  const bouncer = (globalThis as Record<string, unknown>).__TEST_PGBOUNCER__ as
    | { stop(): Promise<void> }
    | undefined;
  await bouncer?.stop();
  const postgres = (globalThis as Record<string, unknown>).__TEST_POSTGRES__ as
    | { stop(options: { remove: boolean }): Promise<void> }
    | undefined;
  await postgres?.stop({ remove: true });

  fs.rmSync(process.env.TEST_RUN_DIR ?? path.join(services.DATA, `test-${process.pid}`), {
    recursive: true,
    force: true,
  });
}
