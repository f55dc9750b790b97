import 'reflect-metadata';
import { loadConfigOrExit, run, startHttp, startWorker } from './bootstrap';

// APP_ROLE=all|api serves HTTP; APP_ROLE=worker runs the same as worker.ts.
run(() => {
  const config = loadConfigOrExit();
  return config.role === 'worker' ? startWorker(config) : startHttp(config);
});
