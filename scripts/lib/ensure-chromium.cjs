// Headless Chromium for the dashboard test (test/e2e/dashboard.e2e-spec.ts) and its screenshot.
// Debian's `chromium` package, driven by playwright-core (which downloads no browser of its own).
// Called by the test command (scripts/test.mjs) and by the test itself; run it alone with
// `node scripts/lib/ensure-chromium.cjs`.
'use strict';

const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');

const CHROMIUM = '/usr/bin/chromium';

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function hasAptGet() {
  return spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
}

/** The Chromium path; installs Debian's package when root and missing, else says what to install. */
function ensureChromium() {
  if (fs.existsSync(CHROMIUM)) return CHROMIUM;
  if (!isRoot() || !hasAptGet()) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; the dashboard test needs it. Install Debian's package: ` +
        'sudo apt-get update && sudo apt-get install -y chromium',
    );
  }
  process.stderr.write("[setup] Chromium is missing: installing Debian's chromium with apt-get\n");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], {
    stdio: 'inherit',
    env,
  });
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`);
  }
  return CHROMIUM;
}

/** Flags for a quiet, sandbox-less headless run that reaches nothing but the app under test. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

module.exports = { CHROMIUM, CHROMIUM_ARGS, ensureChromium };

if (require.main === module) {
  try {
    process.stdout.write(`${ensureChromium()}\n`);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
