#!/usr/bin/env node
// `npm test`: the whole suite on a fresh machine. Installs dependencies, builds dist/ (e2e tests
// run real app processes from it), then runs Jest: unit specs and e2e specs, which start their
// own throwaway Redis and PostgreSQL (see test/support). Extra arguments go to Jest.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// On a machine whose Node.js is older than the project supports, re-runs this on Node.js 24.
await require('./lib/node-runtime.cjs').ensureSupportedNode();
const setup = require('./lib/setup.cjs');
setup.ensureDependencies();
setup.ensureBuild({ force: true });
// The dashboard test drives Debian's Chromium, the alert-rule and metrics tests run promtool
// (Debian's prometheus package): installed here when root, else explained.
try {
  require('./lib/ensure-chromium.cjs').ensureChromium();
  require('./lib/ensure-promtool.cjs').ensurePromtool();
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

const jest = spawnSync('npx', ['jest', '--ci', ...process.argv.slice(2)], {
  cwd: setup.REPO,
  stdio: 'inherit',
});
process.exit(jest.status ?? 1);
