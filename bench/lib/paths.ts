import * as path from 'node:path';

/**
 * The benchmarks run compiled, from `<repo>/.data/bench-build/bench/...` (see bench/bench.mjs);
 * the repository root is found from there, or from bench/lib when read as source.
 */
function findRepo(): string {
  const benchDir = path.resolve(__dirname, '..');
  const root = path.resolve(benchDir, '..');
  return path.basename(root) === 'bench-build' ? path.resolve(root, '..', '..') : root;
}

export const REPO = findRepo();
/** Root of the compiled tree (src/ and bench/ side by side). */
export const BUILD = path.join(REPO, '.data', 'bench-build');
/** Compiled script of a bench file, given relative to bench/ without extension. */
export function benchScript(relative: string): string {
  return path.join(BUILD, 'bench', `${relative}.js`);
}
