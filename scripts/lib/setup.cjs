// Shared steps of the start and test commands: dependencies and the build.
'use strict';

const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');

function run(command) {
  process.stderr.write(`[setup] ${command}\n`);
  execSync(command, { cwd: REPO, stdio: 'inherit' });
}

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** npm ci when node_modules is missing or older than the lock file. */
function ensureDependencies() {
  const installed = path.join(REPO, 'node_modules', '.package-lock.json');
  const lock = path.join(REPO, 'package-lock.json');
  if (mtime(installed) >= mtime(lock) && mtime(installed) > 0) return;
  run(fs.existsSync(lock) ? 'npm ci --no-audit --no-fund' : 'npm install --no-audit --no-fund');
}

function newestIn(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(full) : mtime(full));
  }
  return newest;
}

/** nest build when dist/ is missing or older than any source file. */
function ensureBuild({ force = false } = {}) {
  const built = mtime(path.join(REPO, 'dist', 'main.js'));
  const sources = Math.max(
    newestIn(path.join(REPO, 'src')),
    mtime(path.join(REPO, 'tsconfig.build.json')),
  );
  if (!force && built > sources) return;
  run('npx nest build');
}

module.exports = { REPO, ensureBuild, ensureDependencies, run };
