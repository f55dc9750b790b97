import { Kysely, Migration, MigrationProvider, MigrationResultSet, Migrator } from 'kysely';
import { describeDatabaseProblem } from './database-errors';
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
export async function migrateToLatest(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>,
  /** The database's URL, only to name it (host, port, database) when something fails. */
  databaseUrl: string,
): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    const problem = describeDatabaseProblem(result.error, databaseUrl);
    // No failed migration: none ran (no connection, no database, no lock), so say what is wrong.
    const message = failed
      ? `Migration ${failed} failed (${problem}); the run was rolled back (PostgreSQL runs it ` +
        'in one transaction): fix the cause, then run `npm run migrate`.'
      : `Cannot migrate: ${problem}`;
    throw new Error(message, { cause: result.error });
  }
  return result;
}
