import { MIGRATIONS } from '../../src/database/migrations';
import { runCli } from '../support/cli';
import { createTestDatabase, query, testEnv } from '../support/services';

describe('Migrations (real PostgreSQL)', () => {
  it('migrate a fresh database to the latest schema, even from two processes at once', async () => {
    const databaseUrl = await createTestDatabase();
    const env = testEnv('redis://127.0.0.1:1', databaseUrl);
    const [first, second] = await Promise.all([runCli('migrate', env), runCli('migrate', env)]);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: '' });
    // One of them applied everything; the other waited on the lock and found nothing to do.
    expect([first.stdout, second.stdout].sort()).toEqual([
      `Applied: ${Object.keys(MIGRATIONS).join(', ')}\n`,
      'Schema already up to date.\n',
    ]);
    const applied = await query<{ name: string }>(
      databaseUrl,
      'select name from kysely_migration order by name',
    );
    expect(applied.map((row) => row.name)).toEqual(Object.keys(MIGRATIONS));
    const tables = await query<{ table_name: string }>(
      databaseUrl,
      "select table_name from information_schema.tables where table_schema = 'public'",
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining([
        'users',
        'payees',
        'payouts',
        'ledger_entries',
        'notifications',
        'exports',
      ]),
    );
  });

  it('migrates through DATABASE_MIGRATION_URL when it is given, not DATABASE_URL', async () => {
    const databaseUrl = await createTestDatabase();
    // DATABASE_URL leads nowhere: only the migration URL can have done the work.
    const env = testEnv('redis://127.0.0.1:1', databaseUrl, {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
      DATABASE_MIGRATION_URL: databaseUrl,
    });
    const result = await runCli('migrate', env);
    expect(result).toEqual({
      code: 0,
      stdout: `Applied: ${Object.keys(MIGRATIONS).join(', ')}\n`,
      stderr: '',
    });
  });
});
