import { Kysely, Migration, MigrationProvider, MigrationResultSet, Migrator } from 'kysely';
import { MIGRATIONS } from './migrations';

/** Migrations are compiled with the app (no file-system scanning), so dist/ and tests see the same list. */
class StaticMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

/**
 * Applies pending migrations. Kysely's PostgreSQL adapter holds an advisory lock for the whole
 * run, so instances starting at once apply each migration exactly once and the others wait.
 */
// Migrations work on any version of the schema, hence Kysely<any> (as in Kysely's own docs).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Migration ${failed} failed: ${(result.error as Error).message}`, {
      cause: result.error,
    });
  }
  return result;
}
