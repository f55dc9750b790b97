import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { trackChild } from './interrupt';
import { benchScript, REPO } from './paths';

export interface Message {
  type: string;
  [key: string]: unknown;
}

export interface ChildOptions {
  /** Bench script relative to bench/, without extension (for example `jobs/project-side`). */
  script: string;
  env: Record<string, string>;
  /** stdout and stderr (the app's log lines) go to this file. */
  logFile: string;
  /** Writes a V8 CPU profile of the child into this directory (node --cpu-prof). */
  cpuProfDir?: string;
}

/**
 * A benchmark child process (a worker, a producer, an HTTP server) driven over IPC.
 * Its output goes to a file, not through a pipe the orchestrator would have to drain.
 */
export class Child {
  private readonly process: ChildProcess;
  private readonly inbox: Message[] = [];
  private readonly waiters: Array<() => void> = [];
  private readonly exited: Promise<number | null>;
  /** The child's `ready` message (a server puts its port in it). */
  readyMessage?: Message;

  constructor(readonly options: ChildOptions) {
    fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
    const log = fs.openSync(options.logFile, 'a');
    const flags = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
    this.process = spawn(process.execPath, [...flags, benchScript(options.script)], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['ignore', log, log, 'ipc'],
    });
    fs.closeSync(log);
    trackChild(this.process);
    this.process.on('message', (message: Message) => {
      this.inbox.push(message);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code) => {
        resolve(code);
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  send(message: Message): void {
    this.process.send(message);
  }

  /** Waits for the next message of this type (messages of other types stay queued). */
  async next<T extends Message>(type: string, timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((m) => m.type === type || m.type === 'error');
      if (index >= 0) {
        const [message] = this.inbox.splice(index, 1);
        if (message.type === 'error')
          throw new Error(
            `${this.options.script} failed: ${String(message.message)} (log: ${this.options.logFile})`,
          );
        return message as T;
      }
      if (this.process.exitCode !== null || this.process.signalCode !== null)
        throw new Error(
          `${this.options.script} exited (${this.process.exitCode ?? this.process.signalCode}) before "${type}"; log: ${this.options.logFile}\n${this.tail()}`,
        );
      if (Date.now() > deadline)
        throw new Error(
          `${this.options.script}: no "${type}" within ${timeoutMs} ms; log: ${this.options.logFile}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(1_000, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Every message of this type received so far (progress reports). */
  drain<T extends Message>(type: string): T[] {
    const taken: T[] = [];
    for (let i = this.inbox.length - 1; i >= 0; i--) {
      if (this.inbox[i].type === type) taken.unshift(this.inbox.splice(i, 1)[0] as T);
    }
    return taken;
  }

  /** A wake-up on the next message or exit, for loops that poll drain(). */
  nextEvent(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Asks the child to close its app and exit; kills it if it does not within the grace time. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      if (this.process.connected) this.send({ type: 'stop' });
      const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
      const code = await this.exited;
      clearTimeout(timer);
      return code;
    }
    return this.exited;
  }

  tail(lines = 15): string {
    try {
      return fs.readFileSync(this.options.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

/** Starts children and waits until each has reported ready; stops them all if one fails. */
export async function startChildren(options: ChildOptions[]): Promise<Child[]> {
  const children = options.map((o) => new Child(o));
  try {
    await Promise.all(
      children.map(async (child) => {
        child.readyMessage = await child.next('ready');
      }),
    );
    return children;
  } catch (error) {
    await Promise.all(children.map((c) => c.stop(2_000)));
    throw error;
  }
}
