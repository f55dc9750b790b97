import { Scenario } from '../lib/scenario';

export const exportScenario: Scenario = {
  name: 'export',
  summary: 'todo',
  async run() {
    return { skipped: 'todo' };
  },
};
