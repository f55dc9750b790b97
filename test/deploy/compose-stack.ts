import { spawn } from 'node:child_process';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end without blocking the event loop; rejects on a non-zero exit. */
export function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; allowFailure?: boolean; echo?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: REPO,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.echo) process.stderr.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (options.echo) process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && !options.allowFailure) {
        const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-30).join('\n');
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${tail}`));
      } else {
        resolve({ code, stdout, stderr });
      }
    });
  });
}

/**
 * One docker-compose.yml project, run with the machine's engine (docker compose or
 * podman-compose). Containers are found by the labels both tools set, not by name (their name
 * formats differ).
 */
export class ComposeStack {
  constructor(
    readonly engine: string,
    private readonly compose: string[],
    readonly project: string,
    private readonly files: string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  composeRun(
    args: string[],
    options: { allowFailure?: boolean; echo?: boolean; env?: NodeJS.ProcessEnv } = {},
  ) {
    const [command, ...base] = this.compose;
    const files = this.files.flatMap((file) => ['-f', path.join(REPO, file)]);
    return run(command, [...base, ...files, '-p', this.project, ...args], {
      ...options,
      env: { ...this.env, ...options.env },
    });
  }

  /** Names of the project's containers of a service (running or not). */
  containers(service: string): Promise<string[]> {
    return this.names(['--filter', `label=com.docker.compose.service=${service}`]);
  }

  /** Names of all the project's containers (running or not). */
  projectContainers(): Promise<string[]> {
    return this.names([]);
  }

  private async names(filters: string[]): Promise<string[]> {
    const { stdout } = await run(this.engine, [
      'ps',
      '-a',
      '--filter',
      `label=com.docker.compose.project=${this.project}`,
      ...filters,
      '--format',
      '{{.Names}}',
    ]);
    return stdout.split('\n').filter(Boolean).sort();
  }

  async inspect(container: string, format: string): Promise<string> {
    return (await run(this.engine, ['inspect', '--format', format, container])).stdout.trim();
  }

  exec(container: string, command: string[], env: Record<string, string> = {}) {
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    return run(this.engine, ['exec', ...envArgs, container, ...command]);
  }

  async logs(container: string): Promise<string> {
    const { stdout, stderr } = await run(this.engine, ['logs', container], { allowFailure: true });
    return `${stdout}${stderr}`;
  }

  /** Sends the image's stop signal (SIGTERM), waits up to `seconds`, returns the exit code. */
  async stop(container: string, seconds: number): Promise<number> {
    await run(this.engine, ['stop', '-t', String(seconds), container]);
    return Number(await this.inspect(container, '{{.State.ExitCode}}'));
  }
}
