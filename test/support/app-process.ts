import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { waitUntil } from './wait';

const DIST = path.resolve(__dirname, '..', '..', 'dist');

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/**
 * A real app process built from dist/ (run `npm run build` first; the test command does).
 * Its JSON log lines are parsed and kept, so tests can wait for and assert on them.
 */
export class AppProcess {
  readonly lines: LogLine[] = [];
  readonly output: string[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(entry: 'main' | 'worker' | string, env: Record<string, string>) {
    const script = entry.endsWith('.js') ? entry : `${entry}.js`;
    this.child = spawn(process.execPath, [path.join(DIST, script)], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => {
      for (const raw of chunk.toString().split('\n').filter(Boolean)) {
        this.output.push(raw);
        try {
          this.lines.push(JSON.parse(raw) as LogLine);
        } catch {
          // not a JSON log line (for example a config error printed to stderr)
        }
      }
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  waitForLog(
    predicate: (line: LogLine) => boolean,
    message: string,
    timeoutMs = 30_000,
  ): Promise<LogLine> {
    return waitUntil(() => this.lines.find(predicate), {
      timeoutMs,
      message: `${message}\n${this.tail()}`,
    });
  }

  /** Waits for a raw output line (stdout or stderr), JSON or not, that starts with `prefix`. */
  waitForOutput(prefix: string, timeoutMs = 30_000): Promise<string> {
    return waitUntil(() => this.output.find((raw) => raw.startsWith(prefix)), {
      timeoutMs,
      message: `a line starting with "${prefix}"\n${this.tail()}`,
    });
  }

  /** Resolves once the process logged that it is ready (HTTP listening or worker processing). */
  waitReady(timeoutMs = 30_000): Promise<LogLine> {
    return this.waitForLog(
      (line) => typeof line.msg === 'string' && /^Role \w+: /.test(line.msg),
      'the process to be ready',
      timeoutMs,
    );
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  waitExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }

  tail(lines = 20): string {
    return this.output.slice(-lines).join('\n');
  }
}
