#!/usr/bin/env node
// `npm run test:deploy`: builds the image with the machine's container engine and runs the
// docker-compose.yml stack end to end (test/deploy). Installs podman, podman-compose, runc and
// debootstrap when root and no engine works, and builds the base images locally when no image
// registry answers (scripts/lib/container-engine.cjs). Extra arguments go to Jest.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// On a machine whose Node.js is older than the project supports, re-runs this on Node.js 24.
await require('./lib/node-runtime.cjs').ensureSupportedNode();
const setup = require('./lib/setup.cjs');
setup.ensureDependencies();

const jest = spawnSync(
  'npx',
  ['jest', '--ci', '--config', 'test/deploy/jest.config.js', ...process.argv.slice(2)],
  { cwd: setup.REPO, stdio: 'inherit' },
);
process.exit(jest.status ?? 1);
