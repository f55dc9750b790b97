import { SCENARIOS } from './scenarios';
import { defineChaosSuite } from './suite';
import { sizeFromEnv } from './sizes';

// `npm run test:chaos`: every scenario at full size (CHAOS_SIZE=small for the CI size,
// CHAOS_ONLY=name,name to run some of them).
const only = process.env.CHAOS_ONLY?.split(',').map((s) => s.trim());
defineChaosSuite(
  sizeFromEnv('full'),
  only ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS,
);
