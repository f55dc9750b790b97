import { Scenario } from '../scenario';
import { apiKill } from './api-kill';
import { postgresTerminate } from './postgres-terminate';
import { providerDegraded } from './provider-degraded';
import { providerUnkind } from './provider-unkind';
import { redisFailover } from './redis-failover';
import { redisFlush } from './redis-flush';
import { redisRestart } from './redis-restart';
import { schedulerRestarts } from './scheduler-restarts';
import { workerSigkill, workerSigterm } from './worker-kill';
import { workerPartition } from './worker-partition';

/** Every scenario of the suite, in the order they run. */
export const SCENARIOS: Scenario[] = [
  workerSigkill,
  workerSigterm,
  redisRestart,
  redisFlush,
  redisFailover,
  postgresTerminate,
  providerDegraded,
  providerUnkind,
  apiKill,
  workerPartition,
  schedulerRestarts,
];
