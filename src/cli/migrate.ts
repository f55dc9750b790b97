import 'reflect-metadata';
import { loadConfigOrExit } from '../bootstrap';
import { createDatabase, migrateToLatest } from '../database';

/** `npm run migrate`: applies pending migrations (safe beside running instances). */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  // The direct URL when one is given: the migrator holds a session-level advisory lock.
  const db = createDatabase({ url: config.database.migrationUrl, poolSize: 1 });
  try {
    const { results = [] } = await migrateToLatest(db, config.database.url);
    const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
    process.stdout.write(
      applied.length ? `Applied: ${applied.join(', ')}\n` : 'Schema already up to date.\n',
    );
  } finally {
    await db.destroy();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`Migration failed: ${error.message}\n`);
  process.exit(1);
});
