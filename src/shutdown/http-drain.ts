import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Graceful HTTP close: at shutdown the server stops accepting connections, in-flight requests
 * run to their answer until the deadline, and keep-alive connections are closed as soon as they
 * are idle (a response written during the drain says `Connection: close`). Requests still
 * running at the deadline are cut. Nest's forceCloseConnections destroyed every connection at
 * once instead, in-flight requests included.
 */
export class HttpDrain {
  private readonly inFlight = new Set<ServerResponse>();
  private draining = false;

  constructor(private readonly server: Server) {
    server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      this.inFlight.add(res);
      if (this.draining) res.setHeader('Connection', 'close');
      res.once('close', () => {
        this.inFlight.delete(res);
        if (this.draining) server.closeIdleConnections();
      });
    });
  }

  /** Resolves with the number of requests cut at the deadline (0 when all finished in time). */
  async drain(deadlineAt: number): Promise<number> {
    this.draining = true;
    for (const res of this.inFlight) {
      if (!res.headersSent) res.setHeader('Connection', 'close');
    }
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      closed.then(() => false),
      new Promise<boolean>(
        (resolve) =>
          (timer = setTimeout(() => resolve(true), Math.max(0, deadlineAt - Date.now()))),
      ),
    ]);
    clearTimeout(timer);
    if (!late) return 0;
    const cut = this.inFlight.size;
    this.server.closeAllConnections();
    await closed;
    return cut;
  }
}
