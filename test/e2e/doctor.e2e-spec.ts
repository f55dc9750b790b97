import { runCli } from '../support/cli';
import { createTestDatabase, startTestRedis, testEnv, TestRedis } from '../support/services';

describe('npm run doctor', () => {
  let redis: TestRedis;
  let databaseUrl: string;

  beforeAll(async () => {
    redis = await startTestRedis();
    databaseUrl = await createTestDatabase();
  });

  afterAll(() => redis?.stop());

  it('exits 0 with one OK line per check against working services', async () => {
    const result = await runCli('doctor', testEnv(redis.url, databaseUrl));
    expect(result.stdout).toMatch(/^OK\s+config\s/m);
    expect(result.stdout).toMatch(/^OK\s+redis\s+.*answers \(Redis \d/m);
    expect(result.stdout).toMatch(/^OK\s+redis eviction\s+maxmemory-policy noeviction/m);
    for (const queue of ['payouts', 'analytics', 'notifications', 'exports']) {
      expect(result.stdout).toMatch(new RegExp(`^OK\\s+queue ${queue}\\s+waiting 0`, 'm'));
    }
    expect(result.stdout).toMatch(/^OK\s+database\s+PostgreSQL/m);
    expect(result.stdout).toContain('All checks passed.');
    expect(result.code).toBe(0);
  });

  it('exits non-zero with a clear line when Redis is down', async () => {
    const result = await runCli('doctor', testEnv('redis://127.0.0.1:1', databaseUrl));
    expect(result.stdout).toMatch(
      /^FAIL\s+redis\s+redis:\/\/127\.0\.0\.1:1 is not reachable: .*ECONNREFUSED/m,
    );
    expect(result.code).toBe(1);
  });

  it('checks the direct migration connection when DATABASE_MIGRATION_URL is set', async () => {
    // The same database under another host name: a URL that differs from DATABASE_URL.
    const direct = databaseUrl.replace('127.0.0.1', 'localhost');
    const reachable = await runCli(
      'doctor',
      testEnv(redis.url, databaseUrl, { DATABASE_MIGRATION_URL: direct }),
    );
    expect(reachable.stdout).toMatch(
      /^OK\s+database \(migrations\)\s+postgres:\/\/\*\*\*@localhost:\d+\/test_\w+ answers/m,
    );
    expect(reachable.code).toBe(0);
    const unreachable = await runCli(
      'doctor',
      testEnv(redis.url, databaseUrl, {
        DATABASE_MIGRATION_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
      }),
    );
    expect(unreachable.stdout).toMatch(
      /^FAIL\s+database \(migrations\)\s+postgres:\/\/\*\*\*@127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED/m,
    );
    expect(unreachable.code).toBe(1);
  });

  it('exits non-zero naming the variable when the config is bad', async () => {
    const result = await runCli(
      'doctor',
      testEnv(redis.url, databaseUrl, { PORT: 'eighty', APP_ROLE: 'boss' }),
    );
    expect(result.stdout).toMatch(/^FAIL\s+config\s+Invalid configuration \(2 problems\)/m);
    expect(result.stdout).toContain('PORT: must be a whole number from 0 to 65535 (got "eighty")');
    expect(result.code).toBe(1);
  });

  it('warns when Redis may evict keys', async () => {
    const { default: Redis } = await import('ioredis');
    const admin = new Redis(redis.url);
    try {
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const result = await runCli('doctor', testEnv(redis.url, databaseUrl));
      expect(result.stdout).toMatch(
        /^FAIL\s+redis eviction\s+maxmemory-policy is allkeys-lru: set noeviction/m,
      );
      expect(result.code).toBe(1);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      admin.disconnect();
    }
  });
});
