import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { Histogram, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { warnOnce } from '../self/Logger';
import { exemplarsOf } from '../snapshot/histogramExemplars';
import type { SnapshotExemplar } from '../snapshot/Snapshot';
import { type Attributes, bucketLineCount, type Family, formatValue, LeSuffixCache, PrometheusTextSerializer } from './PrometheusTextSerializer';

/** The media type of OpenMetrics 1.0 text, as sent in `Content-Type`. */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/**
 * OpenMetrics units for the UCUM units the catalogue (and most OpenTelemetry
 * instrumentations) use. A family gets a `# UNIT` line only when its name ends
 * in `_<unit>`, as OpenMetrics requires; `1`, `{request}` and the like have no
 * OpenMetrics unit and get none.
 */
const OPENMETRICS_UNITS: Readonly<Record<string, string>> = {
  s: 'seconds',
  ms: 'milliseconds',
  By: 'bytes',
  '%': 'percent',
};

/**
 * Renders OpenTelemetry `ResourceMetrics` as OpenMetrics 1.0 text: what
 * Prometheus asks for first when it scrapes, and the only text format that
 * carries exemplars.
 *
 * Shares the classic serializer's grouping (one family per name, a name used
 * with two types dropped), label blocks and bucket tails; what differs:
 * counter families are named without `_total` (the sample keeps it), types
 * are OpenMetrics types (`unknown` for untyped), `# UNIT` appears only where
 * the unit matches the name, HELP escapes `"` too, histogram buckets come
 * before `_count` and `_sum` and carry the bucket's exemplar
 * (`# {trace_id="…",span_id="…"} value timestamp`), and the text ends in
 * `# EOF`. Two families whose OpenMetrics names clash (a counter `x` beside a
 * gauge `x`, a histogram `h` beside a gauge `h_count`) keep the first; the
 * second is left out and logged.
 */
export class OpenMetricsSerializer extends PrometheusTextSerializer {
  override serialize(resourceMetrics: ResourceMetrics): string {
    let out = '';
    const taken = new Set<string>();
    for (const family of this.families(resourceMetrics).values()) {
      if (family === undefined) continue;
      const name = openMetricsName(family);
      const reserved = reservedNames(name, family.type);
      const clash = reserved.find((reservedName) => taken.has(reservedName));
      if (clash !== undefined) {
        warnOnce('exposition.openmetrics-name-clash', `metric family "${name}" would clash with "${clash}" in OpenMetrics; it is left out of the OpenMetrics output`);
        continue;
      }
      for (const reservedName of reserved) taken.add(reservedName);
      out += this.serializeOpenMetricsFamily(family, name);
    }
    return `${out}# EOF\n`;
  }

  private serializeOpenMetricsFamily(family: Family, name: string): string {
    const { help, unit, type } = family;
    let out = `# HELP ${name} ${escapeHelp(help || 'description missing')}\n`;
    const openMetricsUnit = OPENMETRICS_UNITS[unit];
    if (openMetricsUnit !== undefined && name.endsWith(`_${openMetricsUnit}`)) out += `# UNIT ${name} ${openMetricsUnit}\n`;
    out += `# TYPE ${name} ${type === 'untyped' ? 'unknown' : type}\n`;
    for (const metric of family.metrics) {
      switch (metric.dataPointType) {
        case DataPointType.SUM:
        case DataPointType.GAUGE:
          // Sample names are the classic ones: a counter's samples keep `_total`.
          out += this.serializeNumberPoints(family.name, metric.dataPoints);
          break;
        case DataPointType.HISTOGRAM:
          out += this.serializeOpenMetricsHistogram(name, metric.dataPoints);
          break;
        default:
          break;
      }
    }
    return out;
  }

  private serializeOpenMetricsHistogram(name: string, points: readonly { attributes: Attributes; value: Histogram }[]): string {
    const bucketName = `${name}_bucket`;
    const leCache = new LeSuffixCache();
    let out = '';
    for (const point of points) {
      const labels = this.labelBlock(point.attributes);
      const series = labels === '' ? '' : `{${labels}}`;
      const histogram = point.value;
      const { boundaries, counts } = histogram.buckets;
      const suffixes = leCache.get(boundaries, labels !== '');
      const bucketPrefix = labels === '' ? `${bucketName}{` : `${bucketName}{${labels}`;
      const exemplars = exemplarsOf(histogram);
      let next = 0;
      let cumulative = 0;
      const lines = bucketLineCount(boundaries, counts);
      for (let i = 0; i < lines; i++) {
        cumulative += counts[i] as number;
        out += `${bucketPrefix}${suffixes[i] ?? suffixes[suffixes.length - 1]}${formatValue(cumulative)}`;
        if (exemplars !== undefined) {
          while (next < exemplars.length && (exemplars[next] as SnapshotExemplar).bucket < i) next++;
          const exemplar = exemplars[next];
          if (exemplar !== undefined && exemplar.bucket === i) out += formatExemplar(exemplar);
        }
        out += '\n';
      }
      // OpenMetrics requires the +Inf bucket, which a point without counts lacks.
      if (counts.length === 0) out += `${bucketPrefix}${suffixes[suffixes.length - 1]}0\n`;
      out += `${name}_count${series} ${formatValue(histogram.count ?? cumulative)}\n`;
      out += `${name}_sum${series} ${formatValue(histogram.sum ?? 0)}\n`;
    }
    return out;
  }
}

/**
 * The names a family claims in OpenMetrics: its own and its samples' (with
 * the suffixes its type reserves). Two families may not share any.
 */
function reservedNames(name: string, type: string): string[] {
  switch (type) {
    case 'counter':
      return [name, `${name}_total`, `${name}_created`];
    case 'histogram':
      return [name, `${name}_bucket`, `${name}_count`, `${name}_sum`, `${name}_created`];
    default:
      return [name];
  }
}

/** The OpenMetrics family name: a counter's family is named without the `_total` its samples carry. */
function openMetricsName(family: Family): string {
  return family.type === 'counter' ? family.name.slice(0, -'_total'.length) : family.name;
}

/** ` # {trace_id="…",span_id="…"} value timestamp`: ids are hex, so they need no escaping. */
function formatExemplar(exemplar: SnapshotExemplar): string {
  return ` # {trace_id="${exemplar.traceId}",span_id="${exemplar.spanId}"} ${formatValue(exemplar.value)} ${exemplar.timeMs / 1000}`;
}

const NEEDS_HELP_ESCAPE = /[\\\n"]/;

/** OpenMetrics HELP escaping: backslash, newline and double quote. */
function escapeHelp(text: string): string {
  return NEEDS_HELP_ESCAPE.test(text) ? text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : text;
}
