#!/usr/bin/env node
// `npm run migrate|seed|doctor|user:create`: the command-line tools, on the Node.js the project
// supports (fetched into .data/node/ when the machine's is older, as npm start does), built
// first when the sources changed. Usage: node scripts/cli.mjs <tool> [arguments...]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
await require('./lib/node-runtime.cjs').ensureSupportedNode();
const setup = require('./lib/setup.cjs');

const [tool, ...args] = process.argv.slice(2);
const entry = path.join(setup.REPO, 'dist', 'cli', `${tool}.js`);
if (!tool || !fs.existsSync(path.join(setup.REPO, 'src', 'cli', `${tool}.ts`))) {
  process.stderr.write(`Unknown tool "${tool ?? ''}": one of migrate, seed, doctor, create-user\n`);
  process.exit(64);
}
setup.ensureBuild();
const child = spawn(process.execPath, [entry, ...args], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
