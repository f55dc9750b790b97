import { DynamicModule, INestApplicationContext, Injectable, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Job } from 'bull';
import { AppConfig, ConfigModule, loadConfig } from '../../src/config';
import { CorrelationModule } from '../../src/correlation';
import { MetricsWorkerModule } from '../../src/metrics/metrics-worker.module';
import {
  JobHandler,
  JobName,
  QueueModule,
  QueueName,
  QueueProcessor,
  QueueWorkerModule,
} from '../../src/queue';
import { RedisModule } from '../../src/redis/redis.module';

export type Behaviour = (job: Job) => Promise<unknown>;

/** What the test processors do: per job ID first, then per job name; completing with 'ok' otherwise. */
@Injectable()
export class Behaviours {
  readonly byJobId = new Map<string, Behaviour>();
  readonly byName = new Map<JobName, Behaviour>();
  readonly runs: Array<{ jobId: string; name: string; attempt: number }> = [];

  run(job: Job): Promise<unknown> {
    this.runs.push({ jobId: String(job.id), name: job.name, attempt: job.attemptsMade + 1 });
    const behaviour =
      this.byJobId.get(String(job.id)) ?? this.byName.get(job.name as JobName) ?? ok;
    return behaviour(job);
  }

  runsOf(jobId: string | number): number {
    return this.runs.filter((run) => run.jobId === String(jobId)).length;
  }
}

const ok: Behaviour = async () => 'ok';

/** Fails the first run with this message, succeeds afterwards. */
export function failOnce(message: string): Behaviour {
  let failed = false;
  return async () => {
    if (failed) return 'ok';
    failed = true;
    throw new Error(message);
  };
}

export function failAlways(message: string): Behaviour {
  return async () => {
    throw new Error(message);
  };
}

/** Runs until release() is called: the job stays active meanwhile. */
export function blockUntilReleased(): { behaviour: Behaviour; release(): void } {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  return { behaviour: () => released.then(() => 'released'), release: () => release() };
}

@Injectable()
@QueueProcessor(QueueName.Payouts)
class PayoutsProcessor {
  constructor(private readonly b: Behaviours) {}
  @JobHandler(JobName.PayoutCycle) handleCycle(job: Job) {
    return this.b.run(job);
  }
  @JobHandler(JobName.PayoutPayPayee) handlePayPayee(job: Job) {
    return this.b.run(job);
  }
  @JobHandler(JobName.PayoutProcess) handleProcess(job: Job) {
    return this.b.run(job);
  }
  @JobHandler(JobName.PayoutReconcile) handleReconcile(job: Job) {
    return this.b.run(job);
  }
}

@Injectable()
@QueueProcessor(QueueName.Analytics)
class AnalyticsProcessor {
  constructor(private readonly b: Behaviours) {}
  @JobHandler(JobName.AnalyticsDailyStats) handleStats(job: Job) {
    return this.b.run(job);
  }
  @JobHandler(JobName.QueueCleanup) handleCleanup(job: Job) {
    return this.b.run(job);
  }
  @JobHandler(JobName.RedisLossCheck) handleRedisLossCheck(job: Job) {
    return this.b.run(job);
  }
}

@Injectable()
@QueueProcessor(QueueName.Notifications)
class NotificationsProcessor {
  constructor(private readonly b: Behaviours) {}
  @JobHandler(JobName.NotificationPayout) handle(job: Job) {
    return this.b.run(job);
  }
}

@Injectable()
@QueueProcessor(QueueName.Exports)
class ExportsProcessor {
  constructor(private readonly b: Behaviours) {}
  @JobHandler(JobName.ExportPayouts) handle(job: Job) {
    return this.b.run(job);
  }
}

/**
 * The queue layer alone on real Redis: config, correlation context, connections, queues and the
 * job dispatcher, for test modules that bring their own processors instead of the app's.
 */
export function queueLayerImports(config: AppConfig): Array<Type | DynamicModule> {
  return [
    ConfigModule.forRoot(config),
    CorrelationModule,
    RedisModule,
    QueueModule,
    QueueWorkerModule,
  ];
}

export interface TestWorker {
  app: INestApplicationContext;
  behaviours: Behaviours;
  close(): Promise<void>;
}

/**
 * A worker in this process: the real queue, dispatcher and job-metrics modules, with test
 * processors whose behaviour each test sets. Use the same env (QUEUE_PREFIX) as the API under
 * test; role `worker` turns on the METRICS_PORT server when the env sets it.
 */
export async function startTestWorker(env: Record<string, string>): Promise<TestWorker> {
  const config = loadConfig({ ...env, APP_ROLE: 'worker' });
  const moduleRef = await Test.createTestingModule({
    imports: [...queueLayerImports(config), MetricsWorkerModule],
    providers: [
      Behaviours,
      PayoutsProcessor,
      AnalyticsProcessor,
      NotificationsProcessor,
      ExportsProcessor,
    ],
  })
    .setLogger({ log() {}, warn() {}, error() {}, debug() {}, verbose() {} })
    .compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return { app, behaviours: app.get(Behaviours), close: () => app.close() };
}
