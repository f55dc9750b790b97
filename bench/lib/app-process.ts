import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { trackChild } from './interrupt';
import { REPO } from './paths';

/**
 * A real process of the built application (`node dist/main.js`, `node dist/worker.js`), as
 * production runs it: its JSON log goes to a file; readiness is its "Role ...:" log line.
 */
export class AppProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  /** Where this process's lines start in its log file (a file may hold earlier runs). */
  private readonly logOffset: number;

  constructor(
    readonly name: string,
    entry: string,
    env: Record<string, string>,
    readonly logFile: string,
    cpuProfDir?: string,
  ) {
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    this.logOffset = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
    const log = fs.openSync(logFile, 'a');
    const flags = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
    this.child = spawn(process.execPath, [...flags, path.join(REPO, 'dist', entry)], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    trackChild(this.child);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null)
        throw new Error(`${this.name} exited (${this.child.exitCode}) at start:\n${this.tail()}`);
      if (/"msg":"Role \w+: /.test(this.read())) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${this.name} was not ready within ${timeoutMs} ms:\n${this.tail()}`);
  }

  /** Peak resident set size so far (VmHWM, Linux), in bytes. */
  peakRssBytes(): number {
    try {
      const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const match = /VmHWM:\s+(\d+) kB/.exec(status);
      return match ? Number(match[1]) * 1024 : NaN;
    } catch {
      return NaN;
    }
  }

  /** SIGTERM (the graceful shutdown path), SIGKILL if it does not exit in time. */
  async stop(graceMs = 20_000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      const code = await this.exited;
      clearTimeout(timer);
      return code;
    }
    return this.exited;
  }

  tail(lines = 15): string {
    return this.read().split('\n').slice(-lines).join('\n');
  }

  private read(): string {
    try {
      return fs.readFileSync(this.logFile).subarray(this.logOffset).toString('utf8');
    } catch {
      return '';
    }
  }
}
