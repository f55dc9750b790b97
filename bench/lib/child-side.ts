import type { Message } from './child';

/**
 * The child's end of the IPC channel: handlers per message type, replies, and a clean exit on
 * `stop` (the child closes its app first, so Redis connections are not left half-open).
 */
export class ParentChannel {
  private readonly handlers = new Map<string, (message: Message) => Promise<Message | void>>();
  private closer: () => Promise<void> = async () => undefined;

  constructor() {
    process.on('message', (message: Message) => void this.dispatch(message));
    // The orchestrator died: nothing will ever ask this child to stop.
    process.on('disconnect', () => void this.exit(1));
  }

  on(type: string, handler: (message: Message) => Promise<Message | void>): this {
    this.handlers.set(type, handler);
    return this;
  }

  onStop(closer: () => Promise<void>): this {
    this.closer = closer;
    return this;
  }

  send(message: Message): void {
    if (process.connected) process.send?.(message);
  }

  fail(error: unknown): void {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`${message}\n`);
    this.send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }

  private async dispatch(message: Message): Promise<void> {
    if (message.type === 'stop') return this.exit(0);
    if (message.type === 'cpu') return this.send({ type: 'cpu', us: cpuMicros() });
    const handler = this.handlers.get(message.type);
    try {
      if (!handler) throw new Error(`No handler for "${message.type}"`);
      const reply = await handler(message);
      if (reply) this.send(reply);
    } catch (error) {
      this.fail(error);
    }
  }

  private async exit(code: number): Promise<void> {
    try {
      await this.closer();
    } finally {
      process.disconnect?.();
      process.exit(code);
    }
  }
}

/** CPU time (user + system) this process has used so far, in microseconds. */
export function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
