import {
  Attributes,
  context,
  Context,
  propagation,
  ROOT_CONTEXT,
  Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

/** W3C trace context of the span that enqueued a job, kept in its `meta` (see JobMeta). */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** What identifies one run of a job on its span (the job's CLS identity, see JobContext). */
export interface JobRunIdentity {
  queue: string;
  jobName: string;
  jobId: string;
  attempt: number;
}

// A proxy: it starts real spans once the SDK is registered (src/tracing/start-tracing.ts).
const tracer = trace.getTracer('payouts-jobs');

/**
 * Set once, by startTracing, when the SDK is registered. While it is false the wrappers below
 * call straight through: no span objects, no context switch, no extra promise per job.
 */
let sdkRegistered = false;

export function enableJobSpans(): void {
  sdkRegistered = true;
}

/**
 * Runs `enqueue` inside a producer span and hands it the trace context to stamp into the jobs'
 * meta, so the jobs' runs continue this trace. The Redis calls of the enqueue are its children.
 * `carrier` is undefined when tracing is off (nothing is added to the job).
 */
export function traceEnqueue<T>(
  queue: string,
  jobName: string,
  count: number,
  enqueue: (carrier: TraceCarrier | undefined) => Promise<T>,
): Promise<T> {
  if (!sdkRegistered) return enqueue(undefined);
  const attributes: Attributes = {
    'messaging.system': 'bull',
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'publish',
    'messaging.destination.name': queue,
    'bull.job.name': jobName,
    ...(count === 1 ? {} : { 'messaging.batch.message_count': count }),
  };
  return tracer.startActiveSpan(
    `publish ${queue}/${jobName}`,
    { kind: SpanKind.PRODUCER, attributes },
    (span) => {
      const carrier: TraceCarrier = {};
      propagation.inject(context.active(), carrier);
      return finish(span, enqueue(carrier.traceparent ? carrier : undefined), (result) => {
        const id = (result as { id?: unknown } | undefined)?.id;
        if (count === 1 && (typeof id === 'string' || typeof id === 'number'))
          span.setAttribute('messaging.message.id', String(id));
      });
    },
  );
}

/**
 * Runs one attempt of a job inside a consumer span, the child of the producer span whose context
 * the job carries (a job enqueued while handling a job therefore joins that job's trace). A job
 * with no usable context (tracing was off when it was enqueued, a scheduled tick) starts a trace.
 */
export function traceJobRun<T>(
  run: JobRunIdentity,
  correlationId: string,
  carrier: unknown,
  handle: () => Promise<T>,
): Promise<T> {
  if (!sdkRegistered) return handle();
  return tracer.startActiveSpan(
    `process ${run.queue}/${run.jobName}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'bull',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': run.queue,
        'messaging.message.id': run.jobId,
        'bull.job.name': run.jobName,
        'bull.job.attempt': run.attempt,
        'app.correlation_id': correlationId,
      },
    },
    parentOf(carrier),
    (span) => finish(span, handle()),
  );
}

/** The remote parent a job carries; only strings reach the W3C parser, which checks their format. */
function parentOf(carrier: unknown): Context {
  const { traceparent, tracestate } = (carrier ?? {}) as Record<string, unknown>;
  if (typeof traceparent !== 'string') return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, {
    traceparent,
    ...(typeof tracestate === 'string' ? { tracestate } : {}),
  });
}

/** Ends the span when the work settles, marking it failed with the error. */
async function finish<T>(span: Span, work: Promise<T>, onDone?: (result: T) => void): Promise<T> {
  try {
    const result = await work;
    onDone?.(result);
    return result;
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}
