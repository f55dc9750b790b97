import { Scenario } from '../lib/scenario';

export const payoutCycleScenario: Scenario = {
  name: 'payout-cycle',
  summary: 'todo',
  async run() {
    return { skipped: 'todo' };
  },
};
