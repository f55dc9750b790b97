import { Scenario } from '../scenario';
import { apiKill } from './api-kill';
import { postgresTerminate } from './postgres-terminate';
import { providerDegraded } from './provider-degraded';
import { providerUnkind } from './provider-unkind';
import { redisRestart } from './redis-restart';
import { schedulerRestarts } from './scheduler-restarts';
import { workerSigkill, workerSigterm } from './worker-kill';
import { workerPartition } from './worker-partition';

/** Every scenario of the suite, in the order they run. */
export const SCENARIOS: Scenario[] = [
  workerSigkill,
  workerSigterm,
  redisRestart,
  postgresTerminate,
  providerDegraded,
  providerUnkind,
  apiKill,
  workerPartition,
  schedulerRestarts,
];
