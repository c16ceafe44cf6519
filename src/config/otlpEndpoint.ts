/**
 * The one rule for OTLP metrics URLs, used by the configuration (which
 * resolves the effective URL, so `check-config` shows where pushes go) and by
 * the push for endpoints handed to it in code.
 */

const METRICS_PATH = 'v1/metrics';

/**
 * The URL metrics are posted to.
 *
 * - `base` (the generic `OTEL_EXPORTER_OTLP_ENDPOINT`, per the OTel
 *   specification): for http/* protocols `v1/metrics` is appended to the path.
 * - `signal` (YAML, `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, code): a URL with a
 *   path is used as is; one without a path gets `/v1/metrics` for http/* protocols.
 *
 * gRPC URLs are used as given. A value that is not an absolute URL is returned
 * unchanged, for the caller's check to refuse.
 */
export function otlpMetricsUrl(endpoint: string, protocol: string, kind: 'base' | 'signal'): string {
  const trimmed = endpoint.trim();
  if (!protocol.startsWith('http')) return trimmed;
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return trimmed;
  }
  const pathless = parsed.pathname === '' || parsed.pathname === '/';
  if (kind === 'signal' && !pathless) return trimmed;
  const base = parsed.pathname.endsWith('/') ? parsed.pathname : `${parsed.pathname}/`;
  parsed.pathname = `${base}${METRICS_PATH}`;
  return parsed.toString();
}
