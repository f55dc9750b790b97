import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/*
 * The project's commands run on a supported Node.js: on a machine whose `node` is older, they
 * fetch the pinned Node.js 24 build into .data/node/ and re-run themselves on it
 * (scripts/lib/node-runtime.cjs). These checks keep the pinned version, package.json, the types
 * and the Dockerfile in step, and run the hand-over for real with a process that reports an old
 * version.
 */

const REPO = path.resolve(__dirname, '..', '..');
const RUNTIME_MODULE = path.join(REPO, 'scripts', 'lib', 'node-runtime.cjs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtime = require(RUNTIME_MODULE) as {
  NODE_VERSION: string;
  atLeast(version: string, minimum: string): boolean;
  minimumVersion(): string;
};
const RUNTIMES = path.join(REPO, '.data', 'node');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
const major = (version: string) => version.replace(/^v/, '').split('.')[0];

describe('Node.js runtime (scripts/lib/node-runtime.cjs)', () => {
  it('runs this suite on a Node.js the project supports', () => {
    expect({
      node: process.version,
      supported: runtime.atLeast(process.version, runtime.minimumVersion()),
    }).toEqual({ node: process.version, supported: true });
  });

  it('pins a Node.js 24 build that package.json, the types and the Dockerfile agree with', () => {
    expect(major(runtime.NODE_VERSION)).toBe('24');
    expect(runtime.atLeast(runtime.NODE_VERSION, runtime.minimumVersion())).toBe(true);
    expect(major(pkg.devDependencies['@types/node'])).toBe('24');
    const dockerfile = fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
    const base = /^ARG BASE_IMAGE=node:(\d+\.\d+)-/m.exec(dockerfile)?.[1];
    expect(base).toBe(runtime.NODE_VERSION.split('.').slice(0, 2).join('.'));
  });

  it('compares versions numerically', () => {
    expect(runtime.atLeast('v22.13.0', '22.13.0')).toBe(true);
    expect(runtime.atLeast('v22.9.0', '22.13.0')).toBe(false);
    expect(runtime.atLeast('v20.20.2', '22.13.0')).toBe(false);
    expect(runtime.atLeast('v24.0.0', '22.13.0')).toBe(true);
  });

  it('re-runs a script on the pinned build, with its arguments, PATH and exit code, when the Node.js is older', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-runtime-'));
    const script = path.join(dir, 'report.cjs');
    fs.writeFileSync(
      script,
      `// The first run pretends to be an old Node.js; the re-run (marked by the runtime) is real.
if (!process.env.PAYOUTS_NODE_RUNTIME) Object.defineProperty(process, 'version', { value: 'v20.0.0' });
(async () => {
  await require(${JSON.stringify(RUNTIME_MODULE)}).ensureSupportedNode();
  process.stdout.write(JSON.stringify({
    version: process.version,
    execPath: process.execPath,
    firstOnPath: process.env.PATH.split(require('node:path').delimiter)[0],
    args: process.argv.slice(2),
  }));
  process.exit(7);
})();
`,
    );
    try {
      // The first run may fetch the build (about 50 MB) when no earlier command has.
      // Without the marker of the runtime this suite may itself run on (npm test re-runs on it).
      const { PAYOUTS_NODE_RUNTIME: _, ...env } = process.env;
      const run = spawnSync(process.execPath, [script, 'one', 'two words'], {
        encoding: 'utf8',
        timeout: 300_000,
        env,
      });
      expect({ status: run.status, stderr: run.stderr }).toEqual({
        status: 7,
        stderr: expect.stringContaining(`running on Node.js ${runtime.NODE_VERSION}`) as string,
      });
      const report = JSON.parse(run.stdout) as Record<string, unknown>;
      const binary = path.join(
        REPO,
        '.data',
        'node',
        `v${runtime.NODE_VERSION}-${process.platform}-${process.arch}`,
        'bin',
        'node',
      );
      expect(report).toEqual({
        version: `v${runtime.NODE_VERSION}`,
        execPath: binary,
        firstOnPath: path.dirname(binary),
        args: ['one', 'two words'],
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // `npm run bench -- --node system`: both sides of a benchmark on the machine's own Node.js.
  it("re-runs a script on the machine's own node when asked (--node system), whatever its version", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-runtime-'));
    const script = path.join(dir, 'report.cjs');
    fs.writeFileSync(
      script,
      `(async () => {
  await require(${JSON.stringify(RUNTIME_MODULE)}).ensureChosenNode('system');
  process.stdout.write(JSON.stringify({
    execPath: process.execPath,
    path: process.env.PATH.split(require('node:path').delimiter),
    args: process.argv.slice(2),
  }));
  process.exit(7);
})();
`,
    );
    try {
      // As under npm test: the project's runtime first on PATH, this process running on it.
      const PATH = [path.dirname(process.execPath), process.env.PATH].join(path.delimiter);
      const run = spawnSync(process.execPath, [script, 'one', 'two words'], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, PATH },
      });
      expect(run.status).toBe(7);
      const report = JSON.parse(run.stdout) as { execPath: string; path: string[]; args: string[] };
      // Whatever the machine's node is, it is not one the project downloaded, and neither is any
      // `node` the script's own children would find on PATH.
      const underRuntimes = (p: string) => path.resolve(p).startsWith(RUNTIMES + path.sep);
      expect({
        execPath: underRuntimes(report.execPath),
        path: report.path.filter(underRuntimes),
        args: report.args,
      }).toEqual({ execPath: false, path: [], args: ['one', 'two words'] });
      expect(path.dirname(report.execPath)).toBe(fs.realpathSync(report.path[0]));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
