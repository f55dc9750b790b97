export type ChaosSizeName = 'small' | 'full';

/** How big and how long each scenario runs. `small` is what CI runs (npm test); `full` is npm run test:chaos. */
export interface ChaosSize {
  name: ChaosSizeName;
  payees: number;
  /** Payees that earn per load round (about that many payouts per round). */
  perRound: number;
  roundMs: number;
  /** How long the load (and the repeated faults) last. */
  loadMs: number;
  /** Time between two repeated faults (worker kills). */
  faultEveryMs: number;
  /** How long a dependency stays away (Redis down, PostgreSQL connections refused). */
  outageMs: number;
  /** Upper bound for the cluster to finish its work after the faults. */
  settleMs: number;
}

export const SIZES: Record<ChaosSizeName, ChaosSize> = {
  small: {
    name: 'small',
    payees: 300,
    perRound: 6,
    roundMs: 500,
    loadMs: 8_000,
    faultEveryMs: 3_000,
    outageMs: 3_000,
    settleMs: 120_000,
  },
  full: {
    name: 'full',
    payees: 5_000,
    perRound: 40,
    roundMs: 500,
    loadMs: 60_000,
    faultEveryMs: 4_000,
    outageMs: 8_000,
    settleMs: 240_000,
  },
};

export function sizeFromEnv(fallback: ChaosSizeName): ChaosSize {
  const name = (process.env.CHAOS_SIZE ?? fallback) as ChaosSizeName;
  const size = SIZES[name];
  if (!size)
    throw new Error(`CHAOS_SIZE must be one of ${Object.keys(SIZES).join(', ')}, not ${name}`);
  return size;
}
