import { context, isSpanContextValid, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';

/**
 * The sampled span active in the current context, if any: what a request's
 * duration exemplar points at.
 *
 * Without a tracer provider and context manager (the app runs no tracing)
 * this is a few property reads returning undefined, so calling it once per
 * request costs nothing measurable. Unsampled spans are skipped: their traces
 * are not stored, so an exemplar would lead nowhere. Returns the span's own
 * context object, so nothing is allocated.
 */
export function activeTrace(): SpanContext | undefined {
  const span = trace.getSpan(context.active());
  if (span === undefined) return undefined;
  const spanContext = span.spanContext();
  if ((spanContext.traceFlags & TraceFlags.SAMPLED) === 0 || !isSpanContextValid(spanContext)) return undefined;
  return spanContext;
}
