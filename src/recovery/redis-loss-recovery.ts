import { Injectable, Logger } from '@nestjs/common';
import { Counter } from 'prom-client';
import { ExportService } from '../exports/export.service';
import { MetricsRegistry } from '../metrics/metrics.registry';
import { ReconcilerService } from '../payout/reconciler.service';
import { QueueName } from '../queue';
import { RedisGeneration } from './redis-generation';

export type RedisLossCheckReport =
  | { lossSuspected: false; recoveryInProgress?: true }
  | {
      lossSuspected: true;
      reason: string;
      recovered: { payouts: number; notifications: number; exports: number };
      /** False: Redis changed again during the recovery; the next check recovers again. */
      confirmed: boolean;
    };

/**
 * Redis carries the work, PostgreSQL owes it. When Redis may have lost writes (see
 * RedisGeneration), every job PostgreSQL still owes and Redis no longer holds is created again:
 * open payouts, notifications of finished payouts, unfinished exports. Each feature knows what
 * it owes; re-creating a job Redis still holds is a no-op (fixed job IDs), and running one
 * twice is harmless (leases and tokens), so recovering too often costs only the sweep.
 */
@Injectable()
export class RedisLossRecovery {
  private readonly logger = new Logger(RedisLossRecovery.name);
  private readonly detected: Counter<'reason'>;
  private readonly recovered: Counter<'queue'>;

  constructor(
    private readonly generation: RedisGeneration,
    private readonly reconciler: ReconcilerService,
    private readonly exports: ExportService,
    metrics: MetricsRegistry,
  ) {
    const registers = [metrics.registry];
    this.detected = new Counter({
      name: 'redis_data_loss_detected_total',
      help: 'Checks that found Redis may have lost writes (failover, flush, restart), by reason',
      labelNames: ['reason'],
      registers,
    });
    this.recovered = new Counter({
      name: 'jobs_recovered_total',
      help: 'Jobs created again from PostgreSQL after Redis may have lost them, by queue',
      labelNames: ['queue'],
      registers,
    });
    for (const queue of [QueueName.Payouts, QueueName.Notifications, QueueName.Exports]) {
      this.recovered.labels({ queue }).inc(0);
    }
  }

  async check(): Promise<RedisLossCheckReport> {
    const check = await this.generation.check();
    if (check.recoveryInProgress) return { lossSuspected: false, recoveryInProgress: true };
    if (!check.suspicion) return { lossSuspected: false };
    this.detected.inc({ reason: reasonLabel(check.suspicion) });
    this.logger.warn(`Redis data loss suspected (${check.suspicion}): recovering owed jobs`);
    let swept: { payouts: number; notifications: number; exports: number };
    try {
      const lost = await this.reconciler.recoverLostJobs();
      swept = { ...lost, exports: await this.exports.recoverLostJobs() };
    } catch (error) {
      // Not left "in progress" for RECOVERY_STALE_MS: the next check (10 s) sweeps again.
      await this.generation.abandon(check.confirmation).catch(() => undefined);
      throw error;
    }
    const { payouts, notifications, exports } = swept;
    this.recovered.inc({ queue: QueueName.Payouts }, payouts);
    this.recovered.inc({ queue: QueueName.Notifications }, notifications);
    this.recovered.inc({ queue: QueueName.Exports }, exports);
    const confirmed = await this.generation.confirm(check.confirmation);
    this.logger.warn(
      `Redis data loss suspected (${check.suspicion}): re-enqueued ${payouts} payouts, ` +
        `${notifications} notifications, ${exports} exports` +
        (confirmed ? '' : '; Redis changed again meanwhile: the next check recovers again'),
    );
    return {
      lossSuspected: true,
      reason: check.suspicion,
      recovered: { payouts, notifications, exports },
      confirmed,
    };
  }
}

function reasonLabel(suspicion: string): 'emptied' | 'primary_changed' | 'unfinished_recovery' {
  if (suspicion.startsWith('no generation marker')) return 'emptied';
  if (suspicion.startsWith('another Redis server')) return 'primary_changed';
  return 'unfinished_recovery';
}
