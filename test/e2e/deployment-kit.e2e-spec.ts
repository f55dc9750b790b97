import * as fs from 'node:fs';
import * as path from 'node:path';
import { allVariables, loadConfig } from '../../src/config/load-config';

/*
 * The Dockerfile and docker-compose.yml cannot be built or run here (no container engine), so
 * this checks what can be checked without one: the commands they run exist (package.json,
 * dist/), the image is multi-stage, non-root, production-only and has a healthcheck, Redis is
 * persistent and never evicts, and each service's environment is one the app accepts.
 */

const REPO = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(REPO, file), 'utf8');
// js-yaml comes with the dev tools (ESLint, Swagger); the kit adds no dependency for this test.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { load(text: string): unknown };

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
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
