import type { ChildProcess } from 'node:child_process';

/** Every child process the benchmark started and that still runs. */
const running = new Set<ChildProcess>();

/** Registers a child, so an interrupted run does not leave it working (it would skew the next). */
export function trackChild(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/**
 * On SIGINT or SIGTERM sent to the orchestrator alone (`kill`, `timeout`, a CI runner), the
 * children are not in its way: they would go on paying payouts and loading the machine. Kill
 * them, stop the servers, then exit with the signal's code.
 */
export function stopEverythingOnInterrupt(stopServers: () => Promise<void>): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(
        `\nbench: ${signal}: stopping ${running.size} child process(es) and the servers\n`,
      );
      for (const child of running) child.kill('SIGKILL');
      void stopServers()
        .catch(() => undefined)
        .finally(() => process.exit(code));
    });
  }
}
