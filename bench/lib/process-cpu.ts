import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Clock ticks per second of /proc/<pid>/stat times (100 on common Linux kernels). */
let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime of the process itself, in ticks. */
  own: number;
  /** cutime + cstime: its children that exited and were waited for, in ticks. */
  reaped: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited meanwhile
  }
  // The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const at = (field: number) => Number(fields[field - 3]);
  return { pid, ppid: at(4), own: at(14) + at(15), reaped: at(16) + at(17) };
}

/** CPU time (user + system) a process has used so far, in ms; NaN when it is gone. */
export function processCpuMs(pid: number): number {
  const stat = readStat(pid);
  return stat ? (stat.own * 1000) / clockTicks() : NaN;
}

/**
 * CPU time (user + system) of a whole PostgreSQL cluster so far, in ms: the postmaster, its live
 * children (backends, background workers), and the children that already exited (the
 * postmaster waits for each, which adds its time to the postmaster's cutime/cstime). Live
 * backends in `exclude` (the orchestrator's own connections) are left out; open them before the
 * first reading and keep them until the last, so the difference of two readings is exact.
 */
export function postgresCpuMs(clusterDir: string, exclude: number[] = []): number {
  const postmaster = Number(
    fs.readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  const root = readStat(postmaster);
  if (!root) return NaN;
  let ticks = root.own + root.reaped;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat?.ppid === postmaster && !exclude.includes(stat.pid)) ticks += stat.own;
  }
  return (ticks * 1000) / clockTicks();
}
