import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { enableJobSpans, TraceCarrier, traceEnqueue, traceJobRun } from './job-spans';

const RUN = {
  queue: 'payouts',
  jobName: 'payout.process',
  jobId: '7',
  attempt: 2,
};

describe('job spans', () => {
  describe('with tracing off (no SDK registered)', () => {
    it('enqueues with no trace context and runs jobs untouched', async () => {
      let given: TraceCarrier | undefined = { traceparent: 'not called' };
      await traceEnqueue('payouts', 'payout.process', 1, async (carrier) => {
        given = carrier;
      });
      expect(given).toBeUndefined();
      await expect(traceJobRun(RUN, 'c-1', undefined, async () => 'done')).resolves.toBe('done');
      await expect(
        traceJobRun(RUN, 'c-1', undefined, async () => Promise.reject(new Error('boom'))),
      ).rejects.toThrow('boom');
    });
  });

  describe('with the SDK registered', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });

    beforeAll(() => {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      trace.setGlobalTracerProvider(provider);
      enableJobSpans();
    });
    afterAll(async () => {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    });
    beforeEach(() => exporter.reset());

    it('links a run to the enqueue it carries, and a job enqueued by that run to the run', async () => {
      let parentCarrier: TraceCarrier | undefined;
      await traceEnqueue('payouts', 'payout.pay-payee', 1, async (carrier) => {
        parentCarrier = carrier;
        return { id: 42 };
      });
      expect(parentCarrier?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

      let childCarrier: TraceCarrier | undefined;
      await traceJobRun(RUN, 'c-1', parentCarrier, () =>
        traceEnqueue('notifications', 'notification.payout', 1, async (carrier) => {
          childCarrier = carrier;
        }),
      );
      const [publish, childPublish, run] = exporter.getFinishedSpans();
      expect(publish).toMatchObject({
        name: 'publish payouts/payout.pay-payee',
        kind: SpanKind.PRODUCER,
      });
      expect(publish.attributes['messaging.message.id']).toBe('42');
      expect(run).toMatchObject({
        name: 'process payouts/payout.process',
        kind: SpanKind.CONSUMER,
      });
      expect(run.attributes).toMatchObject({
        'messaging.destination.name': 'payouts',
        'bull.job.name': 'payout.process',
        'messaging.message.id': '7',
        'bull.job.attempt': 2,
      });
      const traceId = publish.spanContext().traceId;
      expect(run.spanContext().traceId).toBe(traceId);
      expect(run.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
      expect(childPublish.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
      expect(childCarrier?.traceparent).toContain(childPublish.spanContext().spanId);
    });

    it('starts a new trace for a job with no or a malformed trace context', async () => {
      await traceJobRun(
        RUN,
        'c-1',
        { traceparent: 'garbage', tracestate: 42 },
        async () => undefined,
      );
      await traceJobRun(RUN, 'c-1', 'not an object', async () => undefined);
      const spans = exporter.getFinishedSpans();
      expect(spans).toHaveLength(2);
      for (const span of spans) expect(span.parentSpanContext).toBeUndefined();
    });

    it('marks a failed run as an error and rethrows', async () => {
      await expect(
        traceJobRun(RUN, 'c-1', undefined, async () => Promise.reject(new Error('provider down'))),
      ).rejects.toThrow('provider down');
      const [span] = exporter.getFinishedSpans();
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'provider down' });
      expect(span.events.map((e) => e.name)).toEqual(['exception']);
    });
  });
});
