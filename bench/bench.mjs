#!/usr/bin/env node
// `npm run bench [-- <scenario>... --rounds N --smoke]`: compiles src/ and bench/ with SWC into
// .data/bench-build/ (well under a second, and the same compiler the tests use), then runs the
// compiled orchestrator. Child processes (workers, servers) run from the same compiled tree, so
// the project and its baselines are always built the same way.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
// On a machine whose Node.js is older than the project supports, re-runs this on Node.js 24;
// `--node system` (or a path to a node binary) runs it on that one instead, to compare versions.
// Every benchmark child (project side and baseline alike) is started with this process's node.
await require('../scripts/lib/node-runtime.cjs').ensureChosenNode(
  nodeChoice(process.argv.slice(2)),
);
const swc = require('@swc/core');

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(REPO, '.data', 'bench-build');

const SWC_OPTIONS = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  // No source maps: production runs dist/ without --enable-source-maps, so neither do we.
  sourceMaps: false,
};

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [full] : [];
  });
}

async function compile() {
  fs.rmSync(OUT, { recursive: true, force: true });
  const files = [...sources(path.join(REPO, 'src')), ...sources(path.join(REPO, 'bench'))];
  await Promise.all(
    files.map(async (file) => {
      const { code } = await swc.transformFile(file, { ...SWC_OPTIONS, filename: file });
      const target = path.join(OUT, path.relative(REPO, file)).replace(/\.ts$/, '.js');
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, code);
    }),
  );
}

/** The value of `--node X` / `--node=X`, if given (bench/main.ts parses and documents the rest). */
function nodeChoice(args) {
  const at = args.findIndex((arg) => arg === '--node' || arg.startsWith('--node='));
  if (at < 0) return undefined;
  return args[at].startsWith('--node=') ? args[at].slice('--node='.length) : args[at + 1];
}

await compile();
const { main } = require(path.join(OUT, 'bench', 'main.js'));
process.exitCode = await main(process.argv.slice(2));
