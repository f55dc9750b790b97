import { Injectable, Optional } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { AppConfig } from '../config';
import { Database, poolOf } from '../database';
import { MetricsRegistry } from './metrics.registry';

/**
 * This process's PostgreSQL pool, read from node-postgres's counters at scrape time (no query):
 * connections checked out, idle, the pool's maximum, and callers waiting for a connection. Every
 * role has a pool, so every process reports its own (Prometheus keeps them apart by instance).
 */
@Injectable()
export class PoolGauges {
  // Optional: a process assembled without PostgreSQL (a test's bare worker) has no pool to report.
  constructor(metrics: MetricsRegistry, config: AppConfig, @Optional() db?: Database) {
    if (!db) return;
    const registers = [metrics.registry];
    const pool = () => poolOf(db);
    new Gauge({
      name: 'db_pool_connections',
      help: 'PostgreSQL connections of this process by state (in_use: checked out, idle: open and free)',
      labelNames: ['state'],
      registers,
      collect() {
        const current = pool();
        const total = current?.totalCount ?? 0;
        const idle = current?.idleCount ?? 0;
        this.set({ state: 'in_use' }, total - idle);
        this.set({ state: 'idle' }, idle);
      },
    });
    new Gauge({
      name: 'db_pool_max_connections',
      help: 'The most PostgreSQL connections this process opens (DATABASE_POOL_SIZE)',
      registers,
      collect() {
        this.set(config.database.poolSize);
      },
    });
    new Gauge({
      name: 'db_pool_waiting_clients',
      help: 'Queries of this process waiting for a free PostgreSQL connection',
      registers,
      collect() {
        this.set(pool()?.waitingCount ?? 0);
      },
    });
  }
}
