import 'reflect-metadata';
import { loadConfigOrExit } from './config/load-config-or-exit';
import { exitOnStartFailure, startTracing } from './tracing/start-tracing';

// Worker-only entry point: `nest start --entryFile worker` or `node dist/worker.js`.
// Tracing starts before the application is imported (see main.ts).
const config = loadConfigOrExit({ APP_ROLE: 'worker' });
void startTracing(config)
  .then(() => import('./bootstrap'))
  .then(({ run, startWorker }) => run(() => startWorker(config)))
  .catch(exitOnStartFailure);
