import * as http from 'node:http';

export interface HttpResponse<T = unknown> {
  status: number;
  body: T;
  headers: http.IncomingHttpHeaders;
}

/** Where an API instance is reached: TCP, or a Unix socket forwarded into its test host. */
export type Endpoint = { host: string; port: number } | { socketPath: string };

export interface Session {
  cookie: string;
  csrfToken: string;
}

/**
 * A small HTTP client on node:http (it can talk over a Unix socket, which supertest cannot).
 * Errors at the socket level (connection refused while an instance is down) reject; every
 * HTTP status resolves.
 */
export class HttpClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

  constructor(
    readonly name: string,
    private endpoint: Endpoint,
  ) {}

  /** The instance was started again, maybe on another port. */
  retarget(endpoint: Endpoint): void {
    this.endpoint = endpoint;
  }

  request<T = unknown>(
    method: string,
    path: string,
    options: {
      body?: unknown;
      session?: Session;
      headers?: Record<string, string>;
      timeoutMs?: number;
    } = {},
  ): Promise<HttpResponse<T>> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (options.session) {
      headers.cookie = options.session.cookie;
      headers['x-csrf-token'] = options.session.csrfToken;
    }
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          ...this.endpoint,
          method,
          path,
          headers,
          agent: this.agent,
          timeout: options.timeoutMs ?? 15_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let body: unknown = text;
            try {
              body = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON
            }
            resolve({ status: res.statusCode ?? 0, body: body as T, headers: res.headers });
          });
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`${method} ${path} on ${this.name}: no answer in time`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  async login(email: string, password: string): Promise<Session> {
    const res = await this.request<{ csrfToken: string }>('POST', '/auth/login', {
      body: { email, password },
    });
    if (res.status !== 200) {
      throw new Error(`Login on ${this.name} answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
    const setCookie = res.headers['set-cookie'] ?? [];
    const sid = setCookie.find((c) => c.startsWith('sid='));
    if (!sid) throw new Error(`Login on ${this.name} set no session cookie`);
    return { cookie: sid.split(';')[0], csrfToken: res.body.csrfToken };
  }

  close(): void {
    this.agent.destroy();
  }
}
