import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { AppConfig } from '../config';
import { metricsAuthorized } from './metrics-token';
import { MetricsRegistry } from './metrics.registry';

/**
 * The worker role opens no HTTP port, so its job metrics are served by this tiny node:http
 * server on METRICS_PORT (GET /metrics only, METRICS_TOKEN checked). Off unless METRICS_PORT is
 * set, and never in the api/all roles, which serve /metrics through Nest on PORT.
 */
@Injectable()
export class WorkerMetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerMetricsServer.name);
  private server?: Server;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.metricsPort;
    if (this.config.role !== 'worker' || port === undefined) return;
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found: GET /metrics\n');
        return;
      }
      if (!metricsAuthorized(this.config.metricsToken, req.headers.authorization)) {
        res.writeHead(401, { 'Content-Type': 'text/plain' }).end('Bearer METRICS_TOKEN required\n');
        return;
      }
      this.metrics.render().then(
        (text) => res.writeHead(200, { 'Content-Type': this.metrics.contentType }).end(text),
        (error: Error) => {
          this.logger.warn(`Metrics failed: ${error.message}`);
          res.writeHead(500, { 'Content-Type': 'text/plain' }).end('Metrics unavailable\n');
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.http.host, () => resolve());
    });
    this.server = server;
    this.logger.log(`Worker metrics on ${this.config.http.host}:${port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
