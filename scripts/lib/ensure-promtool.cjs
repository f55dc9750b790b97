// promtool, for the alert-rule and metrics-lint tests (test/e2e/monitoring.e2e-spec.ts).
// It comes with Debian's `prometheus` package; installed with apt-get when root and missing, like
// Chromium (ensure-chromium.cjs). Called by the test command (scripts/test.mjs) and by the test
// itself; run it alone with `node scripts/lib/ensure-promtool.cjs`.
'use strict';

const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');

const PROMTOOL = '/usr/bin/promtool';

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function hasAptGet() {
  return spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
}

/** The promtool path; installs Debian's prometheus package when root and missing, else says what to install. */
function ensurePromtool() {
  if (fs.existsSync(PROMTOOL)) return PROMTOOL;
  if (!isRoot() || !hasAptGet()) {
    throw new Error(
      `promtool is not installed at ${PROMTOOL}; the alert-rule tests need it. Install Debian's package: ` +
        'sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus',
    );
  }
  process.stderr.write(
    "[setup] promtool is missing: installing Debian's prometheus with apt-get\n",
  );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  // --no-install-recommends: promtool only, not the exporters; the package's service is not started
  // in a container without systemd.
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'prometheus'], {
    stdio: 'inherit',
    env,
  });
  if (!fs.existsSync(PROMTOOL)) {
    throw new Error(`apt-get installed prometheus but ${PROMTOOL} is still missing`);
  }
  return PROMTOOL;
}

module.exports = { PROMTOOL, ensurePromtool };

if (require.main === module) {
  try {
    process.stdout.write(`${ensurePromtool()}\n`);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
