import { spawn } from 'node:child_process';
import * as path from 'node:path';

const DIST = path.resolve(__dirname, '..', '..', 'dist');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a compiled CLI (dist/cli/<name>.js) to completion. */
export function runCli(
  name: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(DIST, 'cli', `${name}.js`), ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
