/**
 * The exception a framework caught for a request, kept on the raw request so
 * the recorder can name its class in `error_type` (upstream's `error_type` is
 * the exception's class). Set by the framework hooks (src/hooks) and the
 * Fastify error channel; read once when the request completes with a 5xx.
 */

/** Where the caught error is kept on the raw request (and on an HTTP/2 compatibility request's stream). */
export const ERROR_SYMBOL: unique symbol = Symbol.for('otel-cluster-exporter.error');

interface ErrorCarrier {
  [ERROR_SYMBOL]?: unknown;
}

/** Keep the first error a framework reports for `raw`; a later one (an error handler failing) does not replace it. */
export function stashError(raw: object, error: unknown): void {
  if (error === undefined || error === null) return;
  const carrier = raw as ErrorCarrier;
  if (carrier[ERROR_SYMBOL] === undefined) carrier[ERROR_SYMBOL] = error;
  const stream = (raw as { stream?: unknown }).stream;
  if (typeof stream === 'object' && stream !== null && (stream as ErrorCarrier)[ERROR_SYMBOL] === undefined) {
    (stream as ErrorCarrier)[ERROR_SYMBOL] = error;
  }
}

/** The error stashed for a request, if any. */
export function stashedError(req: object): unknown {
  return (req as ErrorCarrier)[ERROR_SYMBOL];
}

/**
 * The class name of an error: its constructor's name (`class ValidationError
 * extends Error` without a `name` of its own still reads `ValidationError`),
 * else its `name`; `undefined` for values that are no error objects.
 */
export function errorClassOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const ctor = (error as { constructor?: { name?: unknown } }).constructor;
  const ctorName = typeof ctor === 'function' && typeof ctor.name === 'string' ? ctor.name : '';
  if (ctorName !== '' && ctorName !== 'Object') return ctorName;
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}
