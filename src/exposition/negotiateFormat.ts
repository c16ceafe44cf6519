/** The text formats `/metrics` can answer in. */
export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** OpenMetrics versions whose text is what {@link ./OpenMetricsSerializer} writes (0.0.1 is 1.0's draft name). */
const OPENMETRICS_VERSIONS: ReadonlySet<string> = new Set(['1.0.0', '0.0.1']);
/** More media ranges than any scraper sends; the rest of a hostile header is not read. */
const MAX_MEDIA_RANGES = 32;

/**
 * Pick the format of one scrape from its `Accept` header: OpenMetrics 1.0 when
 * the scraper rates `application/openmetrics-text` (version 1.0.0, its draft
 * 0.0.1, or no version) above the classic `text/plain`, the classic text
 * otherwise. Ties, a missing header and wildcards-only headers keep the
 * classic format, so a scraper that does not ask never sees a new format.
 *
 * Prometheus sends `application/openmetrics-text;version=1.0.0,…;q=0.75,
 * text/plain;version=0.0.4;q=0.5,*\/*;q=0.1` and so gets OpenMetrics.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || accept === '') return 'prometheus';
  let openMetrics = 0;
  let text = 0;
  let wildcard = 0;
  const ranges = accept.split(',', MAX_MEDIA_RANGES);
  for (const range of ranges) {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    let quality = 1;
    let version: string | undefined;
    for (const parameter of parameters) {
      const equals = parameter.indexOf('=');
      if (equals < 0) continue;
      const name = parameter.slice(0, equals).trim();
      const value = parameter.slice(equals + 1).trim().replace(/^"|"$/g, '');
      if (name === 'q') quality = parseQuality(value);
      else if (name === 'version') version = value;
    }
    if (type === 'application/openmetrics-text') {
      if (version === undefined || OPENMETRICS_VERSIONS.has(version)) openMetrics = Math.max(openMetrics, quality);
    } else if (type === 'text/plain') {
      text = Math.max(text, quality);
    } else if (type === '*/*' || type === 'text/*') {
      wildcard = Math.max(wildcard, quality);
    }
  }
  return openMetrics > Math.max(text, wildcard) ? 'openmetrics' : 'prometheus';
}

/** An RFC 9110 weight: 0 to 1; anything unreadable counts as 0 (not acceptable). */
function parseQuality(value: string): number {
  const quality = Number(value);
  return Number.isFinite(quality) && quality >= 0 && quality <= 1 ? quality : 0;
}
