import * as fs from 'node:fs';
import * as path from 'node:path';
import { FreshClone, stopGroup } from '../support/fresh-clone';
import { query } from '../support/services';
import { waitUntil } from '../support/wait';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const services = require('../../scripts/lib/services.cjs');

// Generous: the walk-through starts PostgreSQL and Redis and pays a cycle (about a minute idle).
jest.setTimeout(480_000);

/** The shell lines between the README's walkthrough markers, on `port` instead of 3000. */
function walkthroughScript(readme: string, port: number): string {
  const block =
    /<!-- walkthrough:begin -->\s*```bash\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme);
  if (!block) throw new Error('README.md has no walkthrough block');
  return block[1].replaceAll('localhost:3000', `localhost:${port}`);
}

/*
 * A new user's path, on a copy of the checkout with nothing set and nothing started: the
 * commands say to run `npm start`; the README's walk-through, run line by line, starts the
 * services and the app and every later command (doctor, seed, user:create) uses them, up to a
 * paid payout and a downloaded export; start-up failures print one line that says why.
 */
describe('The newcomer: README walk-through on a fresh clone (real Redis, PostgreSQL, npm start)', () => {
  const clone = new FreshClone();
  let port: number;
  let walkthroughGroup = -1;

  beforeAll(async () => {
    port = await services.freePort();
  });
  afterAll(async () => {
    if (walkthroughGroup > 0) await stopGroup(walkthroughGroup);
    await clone.remove();
  });

  it('with nothing started, doctor and the app say to run npm start (no silent 127.0.0.1 default)', async () => {
    const doctor = await clone.run('npm run --silent doctor');
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(
      /^FAIL\s+config\s+Invalid configuration \(2 problems\)[\s\S]*REDIS_URL: not set, and no Redis started by `npm start` is recorded in \.data\/services\.json: run `npm start`/m,
    );
    const app = await clone.run('node dist/main.js');
    expect(app.code).toBe(78);
    expect(app.stderr).toContain('DATABASE_URL: not set, and no PostgreSQL started by `npm start`');
  });

  it('runs the README walk-through as written: services started once and used by every command, a paid payout, a downloaded export', async () => {
    const script = walkthroughScript(clone.read('README.md'), port);
    // -e as a careful user would notice a failing line; no pipefail: `curl | grep -q` in the
    // wait loops may end curl with SIGPIPE, which a user's shell ignores too.
    const walk = clone.run(`set -eu\n${script}`, { PORT: String(port) }, 420_000);
    walkthroughGroup = walk.pid;
    const result = await walk;
    const log = clone.read('app.log');
    // stderr holds the seed's progress bar; shown here when a line fails.
    expect({
      code: result.code,
      stdout: result.stdout.slice(-3000),
      stderr: result.stderr,
    }).toMatchObject({
      code: 0,
    });

    // services.json names the app's database, and every command used those services.
    const recorded = clone.services();
    expect(recorded.postgres?.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/payouts$/);
    expect(recorded.redis?.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const databaseUrl = recorded.postgres!.url;
    expect(result.stdout).toContain('All checks passed.');
    expect(result.stdout).toContain(
      `database postgres://***@127.0.0.1:${recorded.postgres!.port}/payouts`,
    );
    expect(result.stdout).toMatch(new RegExp(`OK\\s+redis\\s+${recorded.redis!.url} answers`));
    expect(result.stdout).toMatch(/Seeded 200 payees and \d+ earnings/);
    expect(result.stdout).toMatch(/Created operator ops@example\.com \(id \d+\)/);
    expect(await query(databaseUrl, 'SELECT count(*)::int AS n FROM payees')).toEqual([{ n: 200 }]);
    expect(
      await query(databaseUrl, "SELECT role FROM users WHERE email = 'ops@example.com'"),
    ).toEqual([{ role: 'operator' }]);

    // The password was printed once, when the admin was created; log lines are plain in a file.
    const admin = JSON.parse(clone.read('.data/admin.json')) as { password: string };
    expect(log.split(admin.password).length - 1).toBe(1);
    expect(log).not.toMatch(/\u001b\[/);

    // A paid payout, and the CSV of paid payouts downloaded.
    const [paid] = await query<{ n: number }>(
      databaseUrl,
      "SELECT count(*)::int AS n FROM payouts WHERE status = 'paid'",
    );
    expect(paid.n).toBeGreaterThan(0);
    const csv = clone.read('payouts.csv').trim().split('\n');
    expect(csv[0]).toMatch(/^payout_id,payee_id,/);
    expect(csv.length).toBeGreaterThan(1);
  });

  it('a second start on the taken port exits non-zero with one line naming the port and PORT; the password is not printed again', async () => {
    const second = await clone.run('npm start', { PORT: String(port) }, 180_000);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(
      `Start-up failed: port ${port} is already in use on 0.0.0.0 (is another instance running?): ` +
        'stop the process that listens there, or set PORT (environment or .env) to a free port.\n',
    );
    const admin = JSON.parse(clone.read('.data/admin.json')) as { password: string };
    expect(second.stdout + second.stderr).not.toContain(admin.password);
  });

  it('a start with an unreachable DATABASE_URL exits non-zero with one line naming host and port', async () => {
    const unreachable = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/payouts', PORT: '0' };
    const app = await clone.run('node dist/main.js', unreachable, 120_000);
    expect(app.code).toBe(1);
    // Its last line; a development start may warn before it (SESSION_SECRET not set).
    expect(app.stderr.trimEnd().split('\n').at(-1)).toBe(
      'Start-up failed: Cannot migrate: PostgreSQL at 127.0.0.1:1 is not reachable ' +
        '(connect ECONNREFUSED 127.0.0.1:1): start it, or set DATABASE_URL (environment or .env) ' +
        'to a running server; `npm start` starts one for you.',
    );
    expect(app.stderr.match(/Start-up failed/g)).toHaveLength(1);
    const viaNpm = await clone.run('npm start', unreachable, 120_000);
    expect(viaNpm.code).toBe(1);
    expect(viaNpm.stderr).toContain(
      'DATABASE_URL (127.0.0.1:1, from the environment or .env) does not answer: start that ' +
        'server, or remove DATABASE_URL so that npm start uses the one it starts itself.\n',
    );
  });

  it('stops on SIGTERM and prints its shutdown line', async () => {
    await stopGroup(walkthroughGroup);
    walkthroughGroup = -1;
    await waitUntil(
      () => clone.read('app.log').includes('SIGTERM received: no new requests or jobs'),
      {
        message: 'the shutdown line in app.log',
      },
    );
    expect(fs.existsSync(path.join(clone.dir, '.data', 'services.json'))).toBe(true);
  });
});
