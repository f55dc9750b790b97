import 'reflect-metadata';
import { SingleBar, Presets } from 'cli-progress';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../bootstrap';
import { createDatabase, migrateToLatest } from '../database';
import { PayeeSeeder, SeedOptions } from './payee-seeder';

const USAGE = `Usage: npm run seed -- [--payees N] [--batch N] [--max-earnings N] [--seed N]
  --payees        payees to create (default 1000, at most 1000000)
  --batch         payees per transaction (default 1000)
  --max-earnings  earnings per payee are 1..N (default 8)
  --seed          random seed, for a reproducible data set (default 42)`;

/** `npm run seed -- --payees 10000`: adds payees with earnings to DATABASE_URL's database. */
async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const config = loadConfigOrExit();
  const db = createDatabase({ url: config.database.url, poolSize: 2 });
  const bar = new SingleBar(
    {
      format: 'Seeding [{bar}] {percentage}% | {value}/{total} payees | {duration}s',
      etaBuffer: 20,
    },
    Presets.shades_classic,
  );
  try {
    await migrateToLatest(db, config.database.url);
    const started = Date.now();
    bar.start(options.payees, 0);
    const totals = await new PayeeSeeder(db, options).run((done) => bar.update(done));
    bar.stop();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const amounts = Object.entries(totals.amountMinorByCurrency)
      .map(([currency, minor]) => `${currency} ${minor}`)
      .join(', ');
    process.stdout.write(
      `Seeded ${totals.payees} payees and ${totals.earnings} earnings in ${seconds} s ` +
        `(earnings in minor units: ${amounts}).\n`,
    );
  } finally {
    bar.stop();
    await db.destroy();
  }
}

function parseOptions(args: string[]): SeedOptions {
  const { values } = parseArgs({
    args,
    options: {
      payees: { type: 'string', default: '1000' },
      batch: { type: 'string', default: '1000' },
      'max-earnings': { type: 'string', default: '8' },
      seed: { type: 'string', default: '42' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  return {
    payees: wholeNumber('--payees', values.payees, 1, 1_000_000),
    batchSize: wholeNumber('--batch', values.batch, 1, 10_000),
    maxEarnings: wholeNumber('--max-earnings', values['max-earnings'], 1, 100),
    seed: wholeNumber('--seed', values.seed, 0, 2 ** 32 - 1),
  };
}

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
    process.stderr.write(
      `${flag} must be a whole number from ${min} to ${max} (got "${value}")\n${USAGE}\n`,
    );
    process.exit(64); // EX_USAGE
  }
  return parsed;
}

main().catch((error: Error) => {
  process.stderr.write(`Seeding failed: ${error.message}\n`);
  process.exit(1);
});
