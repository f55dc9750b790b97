import 'reflect-metadata';
import { DynamicModule, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { ConfigModule, loadConfig } from '../../src/config';
import { CorrelationContext, CorrelationModule } from '../../src/correlation';
import { LoggingModule } from '../../src/logging/logging.module';
import { MetricsWorkerModule } from '../../src/metrics/metrics-worker.module';
import { JobName, JobProducer, QueueModule, QueueName, QueueWorkerModule } from '../../src/queue';
import { QueueRegistry } from '../../src/queue/queue-registry';
import { RedisModule } from '../../src/redis/redis.module';
import { ParentChannel } from '../lib/child-side';
import { serveQueueSide } from '../lib/queue-side';
import { WorkerProbe } from '../lib/worker-probe';
import { BENCH_PROCESSORS, probeRef } from './noop-processors';

/**
 * The project's side of the jobs and latency benchmarks: a real Nest application context with
 * the project's modules, as a worker runs them (BENCH_ROLE=worker: QueueWorkerModule with the
 * JobDispatcher and no-op @QueueProcessor providers, and the job metrics) or as an API process
 * produces (BENCH_ROLE=producer: JobProducer only). Settings come from the environment like the app's.
 */
@Module({})
class BenchModule {
  static forRole(worker: boolean, env: Record<string, string | undefined>): DynamicModule {
    return {
      module: BenchModule,
      imports: [
        ConfigModule.forRoot(loadConfig(env)),
        LoggingModule,
        CorrelationModule,
        RedisModule,
        QueueModule,
        // Job metrics as a worker runs them: counters and histograms from Bull's local events,
        // and the shared throughput (counted in memory, written once a second).
        ...(worker ? [QueueWorkerModule, MetricsWorkerModule] : []),
      ],
      providers: worker ? BENCH_PROCESSORS : [],
    };
  }
}

async function main(): Promise<void> {
  const channel = new ParentChannel();
  const worker = process.env.BENCH_ROLE === 'worker';
  const probe = worker ? new WorkerProbe(channel) : undefined;
  probeRef.probe = probe;
  let app: INestApplicationContext | undefined;
  try {
    app = await NestFactory.createApplicationContext(
      BenchModule.forRole(worker, { ...process.env }),
      {
        bufferLogs: true,
      },
    );
    app.useLogger(app.get(Logger));
    app.enableShutdownHooks();
    const producer = app.get(JobProducer);
    const correlation = app.get(CorrelationContext);
    const opened = app;
    serveQueueSide(
      {
        queue: app.get(QueueRegistry).get(QueueName.Payouts),
        addOne: async (payoutId) =>
          String((await producer.enqueue(JobName.PayoutProcess, { payoutId })).id),
        addMany: async (ids) => {
          await producer.enqueueBulk(
            JobName.PayoutProcess,
            ids.map((payoutId) => ({ payload: { payoutId } })),
          );
        },
        // Producers run inside a request's or a job's context; the benchmark opens one too.
        inContext: (fn) =>
          correlation.run({ correlationId: 'bench-producer', origin: 'bench' }, fn),
        close: () => opened.close(),
      },
      channel,
      probe,
    );
    channel.send({ type: 'ready' });
  } catch (error) {
    channel.fail(error);
    await app?.close();
    process.exit(1);
  }
}

void main();
