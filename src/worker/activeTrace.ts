import { context, isSpanContextValid, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';

/**
 * The span context active in the current context, sampled or not, if any.
 *
 * Without a tracer provider and context manager (the app runs no tracing)
 * this is a lookup in the OpenTelemetry API's global registry returning
 * undefined. Returns the span's own context object, so nothing is allocated.
 */
export function activeSpanContext(): SpanContext | undefined {
  return trace.getSpan(context.active())?.spanContext();
}

/**
 * `spanContext` if its trace is sampled and valid: what a request's duration
 * exemplar may point at. Unsampled traces are not stored, so an exemplar
 * would lead nowhere.
 */
export function sampledTrace(spanContext: SpanContext): SpanContext | undefined {
  if ((spanContext.traceFlags & TraceFlags.SAMPLED) === 0 || !isSpanContextValid(spanContext)) return undefined;
  return spanContext;
}
