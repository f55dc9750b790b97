import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/**
 * Where the chaos cluster's processes run. With root and `ip netns`, each role gets its own test
 * host: a network namespace joined to a private switch namespace by a veth pair, with an address
 * in a private range that exists only inside those namespaces (the machine's own network and
 * its root namespace get none). Without them, every "host" is loopback and the suite says so.
 */
export interface Host {
  readonly name: string;
  /** The address other hosts reach this one at. */
  readonly address: string;
  /** The command line that runs `command` on this host. */
  wrap(command: string, args: string[]): { command: string; args: string[] };
}

export interface HostNetwork {
  readonly kind: 'netns' | 'loopback';
  /** Why the network is loopback (empty for netns). */
  readonly note: string;
  host(name: string): Host;
  /** Unplugs the host's cable at the switch: its packets go nowhere until restore(). */
  cut(name: string): void;
  restore(name: string): void;
  /** Removes every namespace and link this network created. Safe to call twice. */
  close(): void;
}

// redis2: the replica of the Sentinel scenario (last, so the other hosts keep their addresses).
export const HOST_NAMES = [
  'redis',
  'db',
  'api1',
  'api2',
  'worker1',
  'worker2',
  'worker3',
  'redis2',
] as const;

class LoopbackNetwork implements HostNetwork {
  readonly kind = 'loopback';

  constructor(readonly note: string) {}

  host(name: string): Host {
    return { name, address: '127.0.0.1', wrap: (command, args) => ({ command, args }) };
  }

  cut(name: string): void {
    throw new Error(`Cannot cut ${name} off: the hosts share loopback (${this.note})`);
  }

  restore(): void {}

  close(): void {}
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

class NetnsNetwork implements HostNetwork {
  readonly kind = 'netns';
  readonly note = '';
  private readonly hosts = new Map<string, Host & { namespace: string; port: string }>();
  private readonly switchNs: string;
  private closed = false;

  /** `id`: a few hex characters unique to this run; `subnet`: the third octet of 10.213.x.0/24. */
  constructor(
    private readonly id: string,
    subnet: number,
    names: readonly string[],
  ) {
    this.switchNs = `chaos-${id}-sw`;
    try {
      ip(['netns', 'add', this.switchNs]);
      ip(['-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
      ip(['-n', this.switchNs, 'link', 'set', 'br0', 'up']);
      names.forEach((name, index) => this.addHost(name, `10.213.${subnet}.${index + 10}`, index));
    } catch (error) {
      this.close();
      throw error;
    }
  }

  private addHost(name: string, address: string, index: number): void {
    const namespace = `chaos-${this.id}-${name}`;
    // Interface names are at most 15 characters: the switch-side end is named after the run.
    const port = `c${this.id}p${index}`;
    ip(['netns', 'add', namespace]);
    this.hosts.set(name, {
      name,
      address,
      namespace,
      port,
      wrap: (command, args) => ({
        command: 'ip',
        args: ['netns', 'exec', namespace, command, ...args],
      }),
    });
    ip(['-n', namespace, 'link', 'set', 'lo', 'up']);
    ip(['-n', namespace, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port]);
    ip(['-n', namespace, 'link', 'set', port, 'netns', this.switchNs]);
    ip(['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    ip(['-n', namespace, 'link', 'set', 'eth0', 'up']);
    ip(['-n', this.switchNs, 'link', 'set', port, 'master', 'br0']);
    ip(['-n', this.switchNs, 'link', 'set', port, 'up']);
  }

  host(name: string): Host {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`No test host named ${name}`);
    return host;
  }

  cut(name: string): void {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`No test host named ${name}`);
    ip(['-n', this.switchNs, 'link', 'set', host.port, 'down']);
  }

  restore(name: string): void {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`No test host named ${name}`);
    ip(['-n', this.switchNs, 'link', 'set', host.port, 'up']);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Deleting a namespace deletes its end of each veth pair, and with it the peer.
    for (const namespace of [...[...this.hosts.values()].map((h) => h.namespace), this.switchNs]) {
      spawnSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' });
    }
    process.removeListener('exit', this.onExit);
  }

  /** Namespaces outlive the process unless deleted: delete them even when the run is cut short. */
  readonly onExit = (): void => this.close();
}

/** Why this machine cannot make test hosts, or undefined when it can. */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== 'linux')
    return `network namespaces need Linux (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'network namespaces need root';
  }
  if (spawnSync('sh', ['-c', 'command -v ip'], { stdio: 'ignore' }).status !== 0) {
    return 'the `ip` command (iproute2) is not installed';
  }
  const probe = `chaos-probe-${randomBytes(3).toString('hex')}`;
  const added = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (added.status !== 0) return `ip netns add failed: ${added.stderr.trim()}`;
  const veth = spawnSync(
    'ip',
    ['-n', probe, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0'],
    { encoding: 'utf8' },
  );
  spawnSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
  if (veth.status !== 0) return `veth pairs are not available: ${veth.stderr.trim()}`;
  return undefined;
}

/**
 * Test hosts in network namespaces when the machine allows it (CHAOS_HOSTS=loopback forces
 * loopback), loopback otherwise.
 */
export function createHostNetwork(
  names: readonly string[] = HOST_NAMES,
  mode = process.env.CHAOS_HOSTS ?? 'auto',
): HostNetwork {
  if (mode === 'loopback') return new LoopbackNetwork('CHAOS_HOSTS=loopback');
  const reason = netnsUnavailableReason();
  if (reason) {
    if (mode === 'netns') throw new Error(`CHAOS_HOSTS=netns but ${reason}`);
    return new LoopbackNetwork(reason);
  }
  const id = randomBytes(2).toString('hex');
  const network = new NetnsNetwork(id, 100 + (parseInt(id, 16) % 150), names);
  process.once('exit', network.onExit);
  // 'exit' does not run when the run is stopped by a signal: delete the namespaces then too.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      network.close();
      process.kill(process.pid, signal);
    });
  }
  return network;
}
