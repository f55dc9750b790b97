import { sql } from 'kysely';
import { Database } from '../database';

export interface SeedOptions {
  payees: number;
  batchSize: number;
  /** Earnings per payee are drawn from 1..maxEarnings. */
  maxEarnings: number;
  /** Seed of the pseudo-random generator: the same seed gives the same data set. */
  seed: number;
}

export interface SeedTotals {
  payees: number;
  earnings: number;
  amountMinorByCurrency: Record<string, number>;
}

const FIRST = [
  'Ada',
  'Bruno',
  'Chloé',
  'Dmitri',
  'Elena',
  'Farid',
  'Grace',
  'Hiro',
  'Ines',
  'Jonas',
  'Kofi',
  'Lena',
  'Mateo',
  'Nadia',
  'Oskar',
  'Priya',
  'Quentin',
  'Rosa',
  'Sven',
  'Tariq',
  'Uma',
  'Viktor',
  'Wen',
  'Yara',
];
const LAST = [
  'Adeyemi',
  'Bernard',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fischer',
  'García',
  'Haddad',
  'Ivanova',
  'Jensen',
  'Kowalski',
  'Laurent',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Petrov',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Weber',
];
/** Currency, share of payees, minimum payouts to pick from, earning range (all in minor units). */
const CURRENCIES = [
  { code: 'EUR', share: 0.5, minimums: [1_000, 2_500, 5_000], earning: [50, 20_000] },
  { code: 'USD', share: 0.35, minimums: [1_000, 2_500, 5_000], earning: [50, 20_000] },
  { code: 'GBP', share: 0.1, minimums: [1_000, 2_000], earning: [50, 15_000] },
  { code: 'JPY', share: 0.05, minimums: [1_000, 5_000], earning: [100, 20_000] },
] as const;
const INACTIVE_SHARE = 0.03;
const DAY_MS = 86_400_000;

/**
 * Creates a realistic data set: payees in four currencies with their own minimums, a few
 * inactive, each with 1..N earnings spread over the last 30 days. Batches of `batchSize` payees,
 * each in one transaction, inserted with unnest() (one statement per table per batch).
 */
export class PayeeSeeder {
  private readonly random: () => number;
  private readonly runTag: string;

  constructor(
    private readonly db: Database,
    private readonly options: SeedOptions,
  ) {
    this.random = mulberry32(options.seed);
    this.runTag = Date.now().toString(36);
  }

  async run(onBatch: (done: number) => void): Promise<SeedTotals> {
    const totals: SeedTotals = { payees: 0, earnings: 0, amountMinorByCurrency: {} };
    for (let start = 0; start < this.options.payees; start += this.options.batchSize) {
      const count = Math.min(this.options.batchSize, this.options.payees - start);
      await this.seedBatch(start, count, totals);
      totals.payees += count;
      onBatch(totals.payees);
    }
    return totals;
  }

  private async seedBatch(start: number, count: number, totals: SeedTotals): Promise<void> {
    const names: string[] = [];
    const emails: string[] = [];
    const currencies: string[] = [];
    const minimums: number[] = [];
    const active: boolean[] = [];
    for (let i = 0; i < count; i++) {
      const first = this.pick(FIRST);
      const last = this.pick(LAST);
      const currency = this.pickCurrency();
      names.push(`${first} ${last}`);
      emails.push(`${ascii(first)}.${ascii(last)}.${this.runTag}${start + i}@example.test`);
      currencies.push(currency.code);
      minimums.push(this.pick(currency.minimums));
      active.push(this.random() >= INACTIVE_SHARE);
    }
    await this.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ id: number; currency: string }>`
        INSERT INTO payees (name, email, currency, minimum_payout_minor, active)
        SELECT * FROM unnest(${names}::text[], ${emails}::text[], ${currencies}::text[],
                             ${minimums}::bigint[], ${active}::boolean[])
        RETURNING id, currency
      `.execute(trx);
      const payeeIds: number[] = [];
      const amounts: number[] = [];
      const entryCurrencies: string[] = [];
      const createdAt: string[] = [];
      const now = Date.now();
      for (const row of rows) {
        const currency = CURRENCIES.find((c) => c.code === row.currency) ?? CURRENCIES[0];
        const earnings = 1 + Math.floor(this.random() * this.options.maxEarnings);
        for (let e = 0; e < earnings; e++) {
          const [low, high] = currency.earning;
          const amount = low + Math.floor(this.random() * (high - low));
          payeeIds.push(Number(row.id));
          amounts.push(amount);
          entryCurrencies.push(row.currency);
          createdAt.push(new Date(now - Math.floor(this.random() * 30 * DAY_MS)).toISOString());
          totals.amountMinorByCurrency[row.currency] =
            (totals.amountMinorByCurrency[row.currency] ?? 0) + amount;
        }
      }
      await sql`
        INSERT INTO ledger_entries (payee_id, kind, amount_minor, currency, created_at)
        SELECT payee_id, 'earning', amount, currency, created_at
        FROM unnest(${payeeIds}::bigint[], ${amounts}::bigint[], ${entryCurrencies}::text[],
                    ${createdAt}::timestamptz[]) AS e(payee_id, amount, currency, created_at)
      `.execute(trx);
      totals.earnings += payeeIds.length;
    });
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private pickCurrency(): (typeof CURRENCIES)[number] {
    let roll = this.random();
    for (const currency of CURRENCIES) {
      if (roll < currency.share) return currency;
      roll -= currency.share;
    }
    return CURRENCIES[0];
  }
}

function ascii(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}

/** A small seeded PRNG: reproducible data sets without a dependency. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
