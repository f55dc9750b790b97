import 'reflect-metadata';
import { loadConfigOrExit } from './config/load-config-or-exit';
import { exitOnStartFailure, startTracing } from './tracing/start-tracing';

// APP_ROLE=all|api serves HTTP; APP_ROLE=worker runs the same as worker.ts.
// Tracing starts before the application is imported: its instrumentations patch http, express,
// pg and ioredis when they are first loaded.
const config = loadConfigOrExit();
void startTracing(config)
  .then(() => import('./bootstrap'))
  .then(({ run, startHttp, startWorker }) =>
    run(() => (config.role === 'worker' ? startWorker(config) : startHttp(config))),
  )
  .catch(exitOnStartFailure);
