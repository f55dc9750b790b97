import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { waitUntil } from '../../support/wait';
import { Host } from './hosts';

const DIST = path.resolve(__dirname, '..', '..', '..', 'dist');
const KEPT_LINES = 400;

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * An app process built from dist/, run on a test host. Like test/support/AppProcess, but on a
 * host (`ip netns exec` execs, so the pid is node's own and signals reach it directly) and
 * keeping only recent log lines: a long run under load writes many.
 */
export class ChaosProcess {
  readonly recent: LogLine[] = [];
  /** Lines at warn level and above (pino: 40+), kept in full for the report. */
  readonly problems: LogLine[] = [];
  readonly startedAt = Date.now();
  private readonly child: ChildProcess;
  private readonly exited: Promise<ExitStatus>;
  private readyLine?: LogLine;

  constructor(
    readonly name: string,
    readonly host: Host,
    entry: 'main' | 'worker',
    readonly env: Record<string, string>,
  ) {
    const { command, args } = host.wrap(process.execPath, [path.join(DIST, `${entry}.js`)]);
    this.child = spawn(command, args, {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    const collect = (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const raw of lines.filter(Boolean)) this.keep(raw);
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  private keep(raw: string): void {
    let line: LogLine;
    try {
      line = JSON.parse(raw) as LogLine;
    } catch {
      line = { msg: raw, level: 50 }; // not JSON: a crash or a config error printed to stderr
    }
    if (!this.readyLine && typeof line.msg === 'string' && /^Role \w+: /.test(line.msg)) {
      this.readyLine = line;
    }
    if ((line.level ?? 0) >= 40 && this.problems.length < 5_000) this.problems.push(line);
    this.recent.push(line);
    if (this.recent.length > KEPT_LINES) this.recent.splice(0, this.recent.length - KEPT_LINES);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitUntil(
      () => {
        if (!this.running) throw new Error(`${this.name} exited before it was ready`);
        return this.readyLine;
      },
      { timeoutMs, intervalMs: 100, message: `${this.name} to be ready\n${this.tail()}` },
    );
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitStatus> {
    this.signal(signal);
    return this.exited;
  }

  waitExit(): Promise<ExitStatus> {
    return this.exited;
  }

  /** Log lines (recent ones) whose message matches. */
  logged(pattern: RegExp): LogLine[] {
    return [...this.problems, ...this.recent].filter(
      (line) => typeof line.msg === 'string' && pattern.test(line.msg),
    );
  }

  tail(lines = 15): string {
    return this.recent
      .slice(-lines)
      .map(
        (line) =>
          `  [${this.name}] ${typeof line.msg === 'string' ? line.msg : JSON.stringify(line)}`,
      )
      .join('\n');
  }
}
