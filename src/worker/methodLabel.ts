/**
 * The `method` label is bounded the way OpenTelemetry's HTTP conventions bound
 * `http.request.method`: the methods a deployment knows keep their name, every
 * other one Node's parser accepts (PROPFIND, M-SEARCH, ... 34 in all) is
 * `_OTHER`. Otherwise a client sweeping methods multiplies every route's series.
 */

/** The methods of RFC 9110 and RFC 5789: the default of `metrics.http_methods`. */
export const STANDARD_HTTP_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

/** The `method` value of every method outside the configured list. */
export const OTHER_METHOD = '_OTHER';

/** Returns the label of a request method: itself when known, {@link OTHER_METHOD} otherwise. */
export function methodLabeller(known: readonly string[]): (method: string) => string {
  const set = new Set(known);
  return (method) => (set.has(method) ? method : OTHER_METHOD);
}
