// The container engine and base images `npm run test:deploy` builds and runs the stack with.
// Docker when its daemon answers; otherwise Debian's podman (installed here when root, as
// ensure-chromium.cjs does for Chromium) with runc and no default ulimits, which is what works as
// root on container-in-VM machines like this one. When no image registry answers, the base images
// are built locally: debootstrap of Debian bookworm, plus the Node.js build the project's commands
// run on (scripts/lib/node-runtime.cjs) for the app, plus Debian's redis-server and PostgreSQL for
// the service containers. They are kept in the engine's store and reused by later runs.
'use strict';

const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { NODE_VERSION, ensureRuntime } = require('./node-runtime.cjs');

const REPO = path.resolve(__dirname, '..', '..');
/** The Dockerfile's default base; with a registry that answers, it is used as is. */
const REGISTRY_BASE = `node:${NODE_VERSION.split('.').slice(0, 2).join('.')}-bookworm-slim`;
const LOCAL_NODE_BASE = `localhost/payouts-base-node:${NODE_VERSION}-bookworm`;
const LOCAL_SERVICES_BASE = 'localhost/payouts-base-services:bookworm';
// npm for `npm ci` in the image's build stages (the Node.js package carries no npm of its own).
const NPM_VERSION = '11.19.1'; // the npm Node.js 24.22.3 ships with
const PODMAN_CONF = '/etc/containers/containers.conf.d/50-payouts-jobs.conf';
const PODMAN_CONF_TEXT = [
  '# Written by payouts-jobs (scripts/lib/container-engine.cjs): podman as root on a machine like',
  '# the CI one needs the runc runtime and no default ulimits (the container may not raise them).',
  '[containers]',
  'default_ulimits = []',
  '',
  '[engine]',
  'runtime = "runc"',
  '',
].join('\n');

function log(message) {
  process.stderr.write(`[deploy] ${message}\n`);
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function which(binary) {
  const found = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

function quiet(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', timeout: 120_000, ...options });
}

function aptInstall(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
    stdio: 'inherit',
    env,
  });
}

/**
 * { engine, compose }: the engine binary and the compose command (array). Docker when its daemon
 * answers and has the compose plugin; else podman + podman-compose, installed when root.
 */
function ensureEngine() {
  if (which('docker') && quiet('docker', ['info'], { timeout: 20_000 }).status === 0) {
    if (quiet('docker', ['compose', 'version']).status === 0) {
      return { engine: 'docker', compose: ['docker', 'compose'] };
    }
    log('docker answers but has no compose plugin: using podman');
  }
  const missing = [
    ['podman', 'podman'],
    ['runc', 'runc'],
    ['podman-compose', 'podman-compose'],
    ['debootstrap', 'debootstrap'],
    // Compose services find each other by name: on podman's CNI networks that is this plugin.
    ['/usr/lib/cni/dnsname', 'golang-github-containernetworking-plugin-dnsname'],
  ].filter(
    ([binary]) => !which(binary) && !fs.existsSync(`/usr/sbin/${binary}`) && !fs.existsSync(binary),
  );
  if (missing.length > 0) {
    const packages = missing.map(([, pkg]) => pkg);
    if (!isRoot() || !which('apt-get')) {
      throw new Error(
        `No working container engine: Docker's daemon does not answer and ${packages.join(', ')} ` +
          `is missing. Install them (Debian: sudo apt-get install -y ${packages.join(' ')}) or start Docker.`,
      );
    }
    log(`no working container engine: installing ${packages.join(' ')} with apt-get`);
    aptInstall(packages);
  }
  if (isRoot() && !fs.existsSync(PODMAN_CONF)) {
    log(`writing ${PODMAN_CONF} (runc, no default ulimits)`);
    fs.mkdirSync(path.dirname(PODMAN_CONF), { recursive: true });
    fs.writeFileSync(PODMAN_CONF, PODMAN_CONF_TEXT);
  }
  return { engine: 'podman', compose: ['podman-compose'] };
}

function imageExists(engine, image) {
  return quiet(engine, ['image', 'inspect', image]).status === 0;
}

/** True when the Dockerfile's default base is present or can be pulled. */
function registryBaseAvailable(engine) {
  if (imageExists(engine, REGISTRY_BASE)) return true;
  const pulled = quiet(engine, ['pull', `docker.io/library/${REGISTRY_BASE}`], {
    timeout: 300_000,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (pulled.status === 0) return true;
  log(`cannot pull ${REGISTRY_BASE} (${(pulled.stderr ?? '').trim().split('\n').at(-1)})`);
  return false;
}

function chroot(root, command, env = {}) {
  execFileSync('chroot', [root, 'sh', '-c', command], {
    stdio: 'inherit',
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...env },
  });
}

/** `tar` of a root file system into the engine as an image. */
function importRootfs(engine, root, image, changes) {
  const tar = spawnSync('tar', ['--numeric-owner', '-C', root, '-c', '.'], {
    maxBuffer: 4 * 1024 ** 3,
  });
  if (tar.status !== 0) throw new Error(`tar of ${root} failed: ${tar.stderr}`);
  execFileSync(engine, ['import', ...changes.flatMap((c) => ['--change', c]), '-', image], {
    input: tar.stdout,
    stdio: ['pipe', 'ignore', 'inherit'],
    maxBuffer: 64 * 1024 ** 2,
  });
}

/** Puts the pinned Node.js and npm into a root file system, with the `node` user (uid 1000). */
function addNode(root) {
  fs.copyFileSync(ensureRuntime(), path.join(root, 'usr/local/bin/node'));
  fs.chmodSync(path.join(root, 'usr/local/bin/node'), 0o755);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'payouts-npm-'));
  try {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', `npm@${NPM_VERSION}`, '--json', '--pack-destination', scratch], {
        cwd: scratch,
        encoding: 'utf8',
      }),
    );
    const modules = path.join(root, 'usr/local/lib/node_modules');
    fs.mkdirSync(path.join(modules, 'npm'), { recursive: true });
    execFileSync('tar', [
      '-xzf',
      path.join(scratch, packed[0].filename),
      '-C',
      path.join(modules, 'npm'),
      '--strip-components=1',
    ]);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  for (const tool of ['npm', 'npx']) {
    fs.symlinkSync(
      `../lib/node_modules/npm/bin/${tool}-cli.js`,
      path.join(root, 'usr/local/bin', tool),
    );
  }
  // `npm ci` in the build stages reaches the registry through whatever this machine trusts (a
  // TLS-inspecting proxy's CA, say): the image trusts the machine's CA bundle too.
  if (fs.existsSync(HOST_CA_BUNDLE)) {
    fs.mkdirSync(path.join(root, path.dirname(HOST_CA_BUNDLE)), { recursive: true });
    fs.copyFileSync(HOST_CA_BUNDLE, path.join(root, HOST_CA_BUNDLE));
  }
  // The same user (name and uid) as the official node images, so the Dockerfile works on both.
  chroot(root, 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --create-home node');
}

const ENV_PATH = 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** Builds the two local base images when missing (a few minutes once, then reused). */
function ensureLocalBaseImages(engine) {
  const want = [LOCAL_NODE_BASE, LOCAL_SERVICES_BASE].filter((i) => !imageExists(engine, i));
  if (want.length === 0) return;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'payouts-rootfs-'));
  // mkdtemp makes the directory 0700: as the chroot's `/`, it would keep every user but root out
  // (apt's _apt, the postgres user of PostgreSQL's postinst, the tar's `./` entry in the image).
  fs.chmodSync(root, 0o755);
  const started = Date.now();
  try {
    log(`building base images locally (${want.join(', ')}): debootstrap of Debian bookworm`);
    execFileSync(
      'debootstrap',
      ['--variant=minbase', 'bookworm', root, 'http://deb.debian.org/debian'],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    // No service starts inside a chroot while packages install.
    fs.writeFileSync(path.join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', {
      mode: 0o755,
    });
    const clean = 'apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin';
    if (want.includes(LOCAL_NODE_BASE)) {
      // The app's base is a copy of the bare tree: no database server in the app image.
      const app = `${root}-node`;
      execFileSync('cp', ['-a', root, app]);
      try {
        chroot(app, clean);
        addNode(app);
        importRootfs(engine, app, LOCAL_NODE_BASE, [
          ENV_PATH,
          `ENV NODE_EXTRA_CA_CERTS=${HOST_CA_BUNDLE}`,
          'CMD ["node"]',
        ]);
      } finally {
        fs.rmSync(app, { recursive: true, force: true });
      }
      log(`imported ${LOCAL_NODE_BASE}`);
    }
    if (want.includes(LOCAL_SERVICES_BASE)) {
      // Debian's own packages; their default cluster is removed (the stack creates its own).
      chroot(
        root,
        'apt-get update -qq && apt-get install -y -qq --no-install-recommends ' +
          `redis-server postgresql && rm -rf /var/lib/postgresql/*/main /etc/postgresql/*/main && ${clean}`,
        { DEBIAN_FRONTEND: 'noninteractive' },
      );
      importRootfs(engine, root, LOCAL_SERVICES_BASE, [ENV_PATH]);
      log(`imported ${LOCAL_SERVICES_BASE}`);
    }
    log(`base images built in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The images to build and run with: the Dockerfile's default base and the compose file's own
 * service images when the registry answers; the local ones otherwise.
 */
function ensureBaseImages(engine) {
  if (registryBaseAvailable(engine)) return { base: REGISTRY_BASE, local: false };
  ensureLocalBaseImages(engine);
  return { base: LOCAL_NODE_BASE, services: LOCAL_SERVICES_BASE, local: true };
}

module.exports = {
  LOCAL_NODE_BASE,
  LOCAL_SERVICES_BASE,
  REGISTRY_BASE,
  REPO,
  ensureBaseImages,
  ensureEngine,
  log,
};

if (require.main === module) {
  // `node scripts/lib/container-engine.cjs`: installs the engine and builds the base images.
  const { engine } = ensureEngine();
  process.stdout.write(`${JSON.stringify(ensureBaseImages(engine))}\n`);
}
