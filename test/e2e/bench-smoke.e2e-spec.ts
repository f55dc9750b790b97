// Smoke run of every benchmark (issue 8): each scenario runs at CI size and prints its tracked
// line. Never its speed: benchmarks have no thresholds in the test suite.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BASELINE_JOB_OPTIONS, BASELINE_QUEUE_SETTINGS } from '../../bench/baselines/bull-options';
import { NestFactory } from '@nestjs/core';
import { ConfigModule, loadConfig } from '../../src/config';
import { CorrelationModule } from '../../src/correlation';
import { QueueModule, QueueName } from '../../src/queue';
import { backoffDelay } from '../../src/queue/worker/retry-later-error';
import { defaultJobOptions } from '../../src/queue/queue.options';
import { QueueRegistry } from '../../src/queue/queue-registry';
import { RedisModule } from '../../src/redis/redis.module';
import { startTestRedis } from '../support/services';

const REPO = path.resolve(__dirname, '..', '..');
/** A hang guard, not a speed check: the smoke run takes about 30 s alone, more inside the suite. */
const SMOKE_TIMEOUT_MS = 240_000;

interface Run {
  code: number | null;
  output: string;
}

/** `npm run bench:smoke` as a child process, killed if it outlives the timeout. */
function runSmoke(): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'bench:smoke'], {
      cwd: REPO,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n[test] smoke run killed after ${SMOKE_TIMEOUT_MS} ms`;
      // The whole process group: npm, the orchestrator and the benchmark children.
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, SMOKE_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The tracked line `name: ratio=X (project Y vs baseline Z)` of one scenario, if printed. */
function trackedLine(output: string, name: string): string | undefined {
  const pattern = new RegExp(
    `^${name}: ratio=\\d+(\\.\\d+)? \\(project .+ vs baseline .+\\)$`,
    'm',
  );
  return pattern.exec(output)?.[0];
}

describe('Benchmarks (smoke run: they run and print their line, whatever their speed)', () => {
  let run: Run;

  beforeAll(async () => {
    run = await runSmoke();
  }, SMOKE_TIMEOUT_MS + 10_000);

  it('exits 0', () => {
    expect({ code: run.code, tail: run.code === 0 ? '' : run.output.slice(-3000) }).toEqual({
      code: 0,
      tail: '',
    });
  });

  it.each(['jobs', 'latency', 'http'])('%s prints its ratio line', (name) => {
    expect(trackedLine(run.output, name)).toEqual(expect.stringContaining(`${name}: ratio=`));
  });

  // These need the payouts domain: they run when its seed CLI is built, and say why not otherwise.
  it.each(['payout-cycle', 'payouts-inflight', 'export'])(
    '%s prints its ratio line, or why it cannot run here',
    (name) => {
      if (fs.existsSync(path.join(REPO, 'dist', 'cli', 'seed.js'))) {
        expect(trackedLine(run.output, name)).toEqual(expect.stringContaining(`${name}: ratio=`));
      } else {
        expect(run.output).toContain(`${name}: skipped (dist/cli/seed.js is missing`);
      }
    },
  );

  it('compares against bare Bull with the options the project gives its jobs and queues', async () => {
    const redis = await startTestRedis();
    const config = loadConfig({ REDIS_URL: redis.url });
    const app = await NestFactory.createApplicationContext(
      {
        module: class BenchOptionsModule {},
        imports: [ConfigModule.forRoot(config), CorrelationModule, RedisModule, QueueModule],
      },
      { logger: false },
    );
    try {
      const queue = app.get(QueueRegistry).get(QueueName.Payouts);
      expect(BASELINE_JOB_OPTIONS).toEqual(defaultJobOptions(config));
      // Bull keeps its effective settings on the queue (not in its typings).
      const { settings } = queue as unknown as { settings: Record<string, unknown> };
      const { backoffStrategies, ...baselineSettings } = BASELINE_QUEUE_SETTINGS;
      expect(settings).toEqual(expect.objectContaining(baselineSettings));
      // The same strategy, by name (the project's and the baseline's copy agree on a few points).
      const ours = (settings.backoffStrategies ?? {}) as Record<string, typeof backoffDelay>;
      for (const [name, theirs] of Object.entries(backoffStrategies ?? {})) {
        for (const attempts of [1, 2, 5]) {
          expect(theirs(attempts, new Error('x'), { delay: 1_000 })).toBe(
            ours[name](attempts, new Error('x'), { delay: 1_000 }),
          );
        }
      }
    } finally {
      await app.close();
      await redis.stop();
    }
  });
});
