#!/usr/bin/env node
// Summarizes a V8 CPU profile (node --cpu-prof, or `npm run bench -- --profile`): where the
// process spent its time, by function (self time) and by package (node_modules/<name>, or the
// project's src/ and bench/), so a table in docs/performance.md can be read without DevTools.
// Usage: node bench/tools/profile-top.mjs <file.cpuprofile> [--top N] [--since S] [--busy]
//   --since S  only the samples taken S seconds or more after the process started (skips start-up)
//   --busy     percentages of the busy time (idle left out), to compare processes loaded differently
import fs from 'node:fs';

process.stdout.on('error', () => process.exit(0)); // piped into head
const [file, ...rest] = process.argv.slice(2);
if (!file) {
  process.stderr.write('Usage: node bench/tools/profile-top.mjs <file.cpuprofile> [--top N]\n');
  process.exit(64);
}
const option = (name) => (rest.includes(name) ? rest[rest.indexOf(name) + 1] : undefined);
const top = Number(option('--top')) || 25;
const sinceUs = Number(option('--since') ?? 0) * 1e6;
const busyOnly = rest.includes('--busy');
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));

// Self time per node = its samples x the mean sampling interval.
const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
const hits = new Map();
const idleIds = new Set(
  profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id),
);
let elapsed = 0;
let total = 0;
profile.samples.forEach((id, i) => {
  elapsed += profile.timeDeltas?.[i] ?? interval;
  if (elapsed < sinceUs) return;
  if (busyOnly && idleIds.has(id)) return;
  hits.set(id, (hits.get(id) ?? 0) + 1);
  total += 1;
});

function area(url) {
  if (!url) return '(native/vm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  for (const dir of ['/src/', '/bench/']) {
    const at = url.lastIndexOf(dir);
    if (at >= 0) return `${dir.slice(1, -1)}/${url.slice(at + dir.length).split('/')[0]}`;
  }
  return url.startsWith('node:') ? 'node (core)' : url;
}

const byFunction = new Map();
const byArea = new Map();
for (const node of profile.nodes) {
  const count = hits.get(node.id) ?? 0;
  if (count === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const name =
    `${functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-2).join('/')}:${lineNumber + 1}` : ''}`.trim();
  byFunction.set(name, (byFunction.get(name) ?? 0) + count);
  const key = ['(idle)', '(program)', '(garbage collector)'].includes(functionName)
    ? functionName
    : area(url);
  byArea.set(key, (byArea.get(key) ?? 0) + count);
}

const pct = (count) => `${((100 * count) / total).toFixed(1).padStart(5)}%`;
const ms = (count) => `${((count * interval) / 1000).toFixed(0).padStart(7)} ms`;
const print = (title, map) => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, count] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${pct(count)} ${ms(count)}  ${name}\n`);
  }
};
process.stdout.write(
  `${file}: ${total} samples${sinceUs ? ` from ${sinceUs / 1e6} s on` : ''}${busyOnly ? ', busy only' : ''}, ${((total * interval) / 1e6).toFixed(2)} s\n`,
);
print('Self time by package / area', byArea);
print('Self time by function', byFunction);

// --callers NAME: the call paths (5 frames up) that lead to a function, by self time.
const callersOf = rest.includes('--callers') ? rest[rest.indexOf('--callers') + 1] : undefined;
if (callersOf) {
  const parent = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node);
  const paths = new Map();
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    if (count === 0 || node.callFrame.functionName !== callersOf) continue;
    const frames = [];
    for (let at = parent.get(node.id); at && frames.length < 6; at = parent.get(at.id)) {
      const { functionName, url, lineNumber } = at.callFrame;
      frames.push(
        `${functionName || '(anonymous)'}@${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`,
      );
    }
    const key = frames.join(' < ');
    paths.set(key, (paths.get(key) ?? 0) + count);
  }
  print(`Callers of ${callersOf}`, paths);
}

// --inclusive: functions by total time (self + everything they called), recursion counted once.
if (rest.includes('--inclusive')) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const subtree = new Map();
  const sum = (node) => {
    if (subtree.has(node.id)) return subtree.get(node.id);
    let total = hits.get(node.id) ?? 0;
    for (const child of node.children ?? []) total += sum(byId.get(child));
    subtree.set(node.id, total);
    return total;
  };
  const inclusive = new Map();
  const walk = (node, open) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const key =
      `${functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-2).join('/')}:${lineNumber + 1}` : ''}`.trim();
    const first = !open.has(key);
    if (first) inclusive.set(key, (inclusive.get(key) ?? 0) + sum(node));
    if (first) open.add(key);
    for (const child of node.children ?? []) walk(byId.get(child), open);
    if (first) open.delete(key);
  };
  walk(profile.nodes[0], new Set());
  inclusive.delete('(root)');
  inclusive.delete('(idle)');
  print('Total (inclusive) time by function', inclusive);
}
