import * as fs from 'node:fs';
import * as path from 'node:path';
import { allVariables, loadConfig } from '../../src/config/load-config';

/*
 * What can be checked without a container engine, in every `npm test`: the commands the
 * Dockerfile, docker-compose.yml and the Kubernetes manifests (deploy/k8s) run exist (package.json,
 * dist/), the image is multi-stage, non-root, production-only and has a healthcheck, Redis is
 * persistent and never evicts, and each service's or pod's environment is one the app accepts.
 * `npm run test:deploy` (test/deploy) builds the image and runs the compose stack for real.
 */

const REPO = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(REPO, file), 'utf8');
// js-yaml comes with the dev tools (ESLint, Swagger); the kit adds no dependency for this test.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as {
  load(text: string): unknown;
  loadAll(text: string): unknown[];
};

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: { test: string[] | string };
  stop_grace_period?: string;
  deploy?: { replicas?: number | string };
}

const compose = yaml.load(read('docker-compose.yml')) as {
  services: Record<string, ComposeService>;
};
const dockerfile = read('Dockerfile');
const pkg = JSON.parse(read('package.json')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** `${NAME:-default}` / `${NAME:?message}` / `${NAME}` as compose would expand them with an empty environment. */
function expand(value: string, given: Record<string, string>): string {
  return value.replace(
    /\$\{(\w+)(?::?([-?])([^}]*))?\}/g,
    (_m, name: string, op?: string, arg?: string) => {
      if (given[name] !== undefined) return given[name];
      if (op === '-') return arg ?? '';
      if (op === '?') throw new Error(`compose needs ${name}: ${arg}`);
      return '';
    },
  );
}

function serviceEnv(name: string, given: Record<string, string> = {}): Record<string, string> {
  // `<<: *app-env` (YAML merge key): js-yaml 5 leaves it to the reader; compose merges it.
  const { '<<': base = {}, ...own } = (compose.services[name].environment ?? {}) as Record<
    string,
    unknown
  >;
  const env = { ...(base as Record<string, unknown>), ...own };
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, expand(String(v ?? ''), given)]),
  );
}

/** Files a `node <file>` command runs, relative to the repository. */
function nodeScripts(command: string[] | string | undefined): string[] {
  const words = Array.isArray(command) ? command : (command ?? '').split(/\s+/);
  return words.filter((word, i) => words[i - 1] === 'node' && word.endsWith('.js'));
}

describe('Deployment kit (Dockerfile, docker-compose.yml)', () => {
  it('builds in stages, installs production dependencies only, runs as a non-root user, with a healthcheck', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const users = [...dockerfile.matchAll(/^USER (\S+)/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)$/);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    // The healthcheck asks the route the app serves for liveness.
    expect(dockerfile).toMatch(/\/health\/live/);
    const dockerignore = read('.dockerignore');
    expect(dockerignore).toMatch(/^node_modules$/m);
    expect(dockerignore).toMatch(/^\.env$/m);
  });

  it('runs only commands that exist: the build tool in package.json, the entry points in dist/', () => {
    expect(dockerfile).toMatch(/npx nest build/);
    expect(pkg.devDependencies['@nestjs/cli']).toBeDefined();
    expect(pkg.scripts.build).toBe('nest build');
    const fromDockerfile = [...dockerfile.matchAll(/"node",\s*"([^"]+\.js)"/g)].map((m) => m[1]);
    const fromCompose = Object.values(compose.services).flatMap((s) => [
      ...nodeScripts(s.command),
      ...nodeScripts(s.healthcheck?.test),
    ]);
    const scripts = [...new Set([...fromDockerfile, ...fromCompose])];
    expect(scripts).toEqual(
      expect.arrayContaining(['dist/main.js', 'dist/worker.js', 'dist/cli/doctor.js']),
    );
    for (const script of scripts) {
      expect({ script, exists: fs.existsSync(path.join(REPO, script)) }).toEqual({
        script,
        exists: true,
      });
    }
    // package.json's production start commands run the same entry points.
    expect(pkg.scripts['start:prod']).toBe('node dist/main.js');
    expect(pkg.scripts['start:prod:worker']).toBe('node dist/worker.js');
  });

  it('keeps Redis persistent (AOF) and never evicting, as Bull needs', () => {
    const command = compose.services.redis.command as string[];
    const setting = (name: string) => command[command.indexOf(name) + 1];
    expect(setting('--appendonly')).toBe('yes');
    expect(setting('--maxmemory-policy')).toBe('noeviction');
    expect(['everysec', 'always']).toContain(setting('--appendfsync'));
  });

  it('has one api and a scalable worker service from the same image, stopped gracefully', () => {
    const { api, worker } = compose.services;
    expect(api.build).toBeDefined();
    expect(worker.image).toBe(api.image);
    expect(worker.command).toEqual(['node', 'dist/worker.js']);
    expect(serviceEnv('worker', { SESSION_SECRET: 's'.repeat(40) }).APP_ROLE).toBe('worker');
    expect(serviceEnv('api', { SESSION_SECRET: 's'.repeat(40) }).APP_ROLE).toBe('api');
    // A fixed container name or host port would stop `--scale worker=N`.
    expect(Object.keys(worker)).not.toEqual(expect.arrayContaining(['container_name']));
    expect(Object.keys(worker)).not.toEqual(expect.arrayContaining(['ports']));
    // Two by default; WORKER_REPLICAS sets it where `--scale` is ignored (podman-compose 1.0).
    const replicas = String(worker.deploy?.replicas);
    expect(expand(replicas, {})).toBe('2');
    expect(expand(replicas, { WORKER_REPLICAS: '3' })).toBe('3');
  });

  it.each(['api', 'worker'])(
    'gives the %s service only variables the config schema knows, with values it accepts',
    (name) => {
      const known = new Set(allVariables());
      const env = serviceEnv(name, { SESSION_SECRET: 'x'.repeat(40) });
      expect(Object.keys(env).filter((key) => !known.has(key))).toEqual([]);
      // The same validation the process runs at start (NODE_ENV=production: strict checks on).
      const config = loadConfig(env);
      expect(config.isProduction).toBe(true);
      expect(config.redis.prefix).toBe('{bull}');
      const seconds = Number(/^(\d+)s$/.exec(compose.services[name].stop_grace_period ?? '')?.[1]);
      expect(seconds * 1000).toBeGreaterThan(config.shutdownTimeoutMs);
    },
  );

  it('refuses to start the stack without a session secret', () => {
    expect(() => serviceEnv('api')).toThrow(/SESSION_SECRET/);
  });
});

interface K8sContainer {
  name: string;
  image: string;
  command: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: K8sProbe;
  livenessProbe?: K8sProbe;
}
interface K8sProbe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: {
    selector?: { matchLabels: Record<string, string> };
    minAvailable?: number;
    maxUnavailable?: number;
    template?: {
      metadata: { labels: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
        containers: K8sContainer[];
      };
    };
  };
}

const K8S_DIR = path.join('deploy', 'k8s');
const manifests = fs
  .readdirSync(path.join(REPO, K8S_DIR))
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) => yaml.loadAll(read(path.join(K8S_DIR, file))) as K8sObject[]);
const ofKind = (kind: string) => manifests.filter((object) => object.kind === kind);
const deployment = (role: string) => {
  const found = ofKind('Deployment').find((d) => d.metadata.name === `payouts-jobs-${role}`);
  if (!found) throw new Error(`no Deployment payouts-jobs-${role} in ${K8S_DIR}`);
  return found;
};

/** A pod's environment as the kubelet builds it: ConfigMaps and Secrets (envFrom), then env. */
function podEnv(container: K8sContainer, secrets: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      const map = ofKind('ConfigMap').find((m) => m.metadata.name === source.configMapRef?.name);
      if (!map) throw new Error(`ConfigMap ${source.configMapRef.name} is not in ${K8S_DIR}`);
      Object.assign(env, map.data);
    }
    if (source.secretRef) Object.assign(env, secrets);
  }
  for (const { name, value } of container.env ?? []) env[name] = value ?? '';
  return env;
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  // The Secret is created by the operator (see config.yaml): these are its keys.
  const secrets = {
    SESSION_SECRET: 'k'.repeat(40),
    DATABASE_URL: 'postgres://payouts:secret@postgres:5432/payouts',
    REDIS_URL: 'redis://redis:6379',
  };

  it('are valid YAML: a ConfigMap, api and worker Deployments, a Service and a PodDisruptionBudget for each', () => {
    expect(manifests.every((o) => typeof o.apiVersion === 'string' && o.metadata?.name)).toBe(true);
    expect(
      ofKind('Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(['payouts-jobs-api', 'payouts-jobs-worker']);
    expect(ofKind('ConfigMap')).toHaveLength(1);
    expect(ofKind('Service')).toHaveLength(1);
    // Each Deployment's pods are covered by exactly one budget.
    for (const role of ['api', 'worker']) {
      const labels = deployment(role).spec?.template?.metadata.labels ?? {};
      const budgets = ofKind('PodDisruptionBudget').filter((pdb) =>
        Object.entries(pdb.spec?.selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v),
      );
      expect({ role, budgets: budgets.length }).toEqual({ role, budgets: 1 });
      // The Deployment's own selector picks its pods.
      const selector = deployment(role).spec?.selector?.matchLabels ?? {};
      expect(Object.entries(selector).every(([k, v]) => labels[k] === v)).toBe(true);
    }
  });

  it.each(['api', 'worker'])(
    'give the %s pods only variables the config schema knows, values it accepts, and a grace period above SHUTDOWN_TIMEOUT',
    (role) => {
      const pod = deployment(role).spec!.template!.spec;
      const [container] = pod.containers;
      const env = podEnv(container, secrets);
      const known = new Set(allVariables());
      expect(Object.keys(env).filter((key) => !known.has(key))).toEqual([]);
      const config = loadConfig(env);
      expect(config.isProduction).toBe(true);
      expect(config.redis.prefix).toBe('{bull}');
      expect(env.APP_ROLE).toBe(role);
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.shutdownTimeoutMs);
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.securityContext?.runAsUser).not.toBe(0);
      // The image the compose file builds, running an entry point that exists in dist/.
      expect(container.image).toBe(compose.services.api.image);
      for (const script of nodeScripts(container.command)) {
        expect({ script, exists: fs.existsSync(path.join(REPO, script)) }).toEqual({
          script,
          exists: true,
        });
      }
    },
  );

  it('probe the API over HTTP: ready on /health/ready, alive on /health/live, on the port it listens on', () => {
    const [container] = deployment('api').spec!.template!.spec.containers;
    expect(container.command).toEqual(['node', 'dist/main.js']);
    expect(container.readinessProbe?.httpGet?.path).toBe('/health/ready');
    expect(container.livenessProbe?.httpGet?.path).toBe('/health/live');
    const port = container.ports?.find((p) => p.name === container.readinessProbe?.httpGet?.port);
    expect(port?.containerPort).toBe(loadConfig(podEnv(container, secrets)).http.port);
  });

  it('probe the portless workers with the doctor command, which exists in dist/', () => {
    const [container] = deployment('worker').spec!.template!.spec.containers;
    expect(container.command).toEqual(['node', 'dist/worker.js']);
    expect(container.ports ?? []).toEqual([]);
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      const scripts = nodeScripts(probe?.exec?.command);
      expect(scripts).toEqual(['dist/cli/doctor.js']);
      expect(fs.existsSync(path.join(REPO, scripts[0]))).toBe(true);
    }
  });
});
