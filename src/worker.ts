import 'reflect-metadata';
import { loadConfigOrExit, run, startWorker } from './bootstrap';

// Worker-only entry point: `nest start --entryFile worker` or `node dist/worker.js`.
run(() => startWorker(loadConfigOrExit({ APP_ROLE: 'worker' })));
