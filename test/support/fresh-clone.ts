import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitUntil } from './wait';

const REPO = path.resolve(__dirname, '..', '..');

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A copy of the checkout in a temporary directory, as a new user has it after `git clone` (and
 * the build the test command made): no .data/, no .env, no services. node_modules is a link to
 * this checkout's, so nothing is installed.
 */
export class FreshClone {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'payouts-clone-'));

  constructor() {
    for (const entry of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'nest-cli.json',
      'README.md',
      '.env.example',
      'scripts',
      'src',
      'dist',
    ]) {
      fs.cpSync(path.join(REPO, entry), path.join(this.dir, entry), {
        recursive: true,
        preserveTimestamps: true,
      });
    }
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(this.dir, 'node_modules'));
    // npm start runs `npm ci` when the lock file is newer than the install, and `npm ci` through
    // the link would empty this checkout's node_modules: date the lock file far in the past
    // (copying the install's own time is not enough, utimes rounds it up).
    const longAgo = new Date('2000-01-01T00:00:00Z');
    fs.utimesSync(path.join(this.dir, 'package-lock.json'), longAgo, longAgo);
  }

  /** The environment of a new user: no service URL, no setting of this test run. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      ...extra,
    };
  }

  /** Runs a shell command in the clone to completion. */
  run(command: string, extra: Record<string, string> = {}, timeoutMs = 60_000) {
    return runShell(command, this.dir, this.env(extra), timeoutMs);
  }

  services(): { redis?: { url: string }; postgres?: { url: string; port: number } } {
    const file = path.join(this.dir, '.data', 'services.json');
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  }

  read(file: string): string {
    const full = path.join(this.dir, file);
    return fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : '';
  }

  /** Stops the services `npm start` started here, then deletes the clone. */
  async remove(): Promise<void> {
    await this.run('node scripts/services.mjs stop');
    const postgresDir = (this.services().postgres as { dir?: string } | undefined)?.dir;
    fs.rmSync(this.dir, { recursive: true, force: true });
    if (postgresDir) fs.rmSync(postgresDir, { recursive: true, force: true });
  }
}

/**
 * Runs `command` with bash in its own process group (so a test can stop everything it started
 * in the background, `npm start &` included) and collects its output.
 */
export function runShell(
  command: string,
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<CommandResult> & { pid: number } {
  const child = spawn('bash', ['-c', command], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => stopGroup(child.pid ?? -1), timeoutMs);
  const done = new Promise<CommandResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return Object.assign(done, { pid: child.pid ?? -1 });
}

/** SIGTERM to a process group this test started, then waits until none of it is left. */
export async function stopGroup(pgid: number, timeoutMs = 30_000): Promise<void> {
  const alive = () => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(-pgid, 'SIGTERM');
  await waitUntil(() => !alive(), { timeoutMs, message: `process group ${pgid} to exit` });
}
