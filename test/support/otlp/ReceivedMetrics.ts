import type { RawExportRequest } from './OtlpProto';

/** An attribute value as OTLP carries it, flattened. */
export type AttributeValue = string | number | boolean;

/** One data point as a receiver got it; 64-bit times are decimal strings. */
export interface ReceivedPoint {
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly startTimeUnixNano: string;
  readonly timeUnixNano: string;
  /** Sum and gauge points. */
  readonly value?: number;
  /** Histogram points. */
  readonly count?: number;
  readonly sum?: number;
  readonly bucketCounts?: readonly number[];
  readonly explicitBounds?: readonly number[];
  readonly min?: number;
  readonly max?: number;
  /** Histogram exemplars, ids in hex. */
  readonly exemplars?: readonly ReceivedExemplar[];
}

/** One exemplar as a receiver got it. */
export interface ReceivedExemplar {
  readonly traceId: string;
  readonly spanId: string;
  readonly value: number;
  readonly timeUnixNano: string;
}

/** OTLP AggregationTemporality values. */
export const TEMPORALITY = { delta: 1, cumulative: 2 } as const;

/** One metric as a receiver got it. */
export interface ReceivedMetric {
  readonly scope: string;
  readonly name: string;
  readonly unit: string;
  readonly description: string;
  readonly kind: 'sum' | 'gauge' | 'histogram' | 'other';
  /** 1 delta, 2 cumulative (OTLP enum); absent for gauges. */
  readonly temporality?: number;
  readonly monotonic?: boolean;
  readonly points: readonly ReceivedPoint[];
}

/** One resource's metrics from one export request. */
export interface ReceivedResource {
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly metrics: readonly ReceivedMetric[];
}

type Obj = Record<string, unknown>;

function list(value: unknown): Obj[] {
  return Array.isArray(value) ? (value as Obj[]) : [];
}

function num(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'number' ? value : Number(value);
}

function anyValue(value: unknown): AttributeValue {
  const v = (value ?? {}) as Obj;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  return JSON.stringify(v);
}

/** OTLP KeyValue list → plain record. */
export function attributesOf(value: unknown): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of list(value)) out[String(kv.key)] = anyValue(kv.value);
  return out;
}

function pointOf(raw: Obj): ReceivedPoint {
  const base = {
    attributes: attributesOf(raw.attributes),
    startTimeUnixNano: String(raw.startTimeUnixNano ?? '0'),
    timeUnixNano: String(raw.timeUnixNano ?? '0'),
  };
  if (raw.bucketCounts !== undefined || raw.count !== undefined) {
    const point: ReceivedPoint = {
      ...base,
      count: num(raw.count) ?? 0,
      bucketCounts: list(raw.bucketCounts).map((c) => Number(c)),
      explicitBounds: list(raw.explicitBounds).map((b) => Number(b)),
      ...(raw.sum !== undefined ? { sum: Number(raw.sum) } : {}),
      ...(raw.min !== undefined ? { min: Number(raw.min) } : {}),
      ...(raw.max !== undefined ? { max: Number(raw.max) } : {}),
      ...(raw.exemplars !== undefined ? { exemplars: list(raw.exemplars).map(exemplarOf) } : {}),
    };
    return point;
  }
  return { ...base, value: num(raw.asDouble) ?? num(raw.asInt) ?? 0 };
}

/** Decoded bytes fields arrive base64-encoded (see OtlpProto's conversion options). */
function exemplarOf(raw: Obj): ReceivedExemplar {
  const hex = (value: unknown): string => Buffer.from(String(value ?? ''), 'base64').toString('hex');
  return { traceId: hex(raw.traceId), spanId: hex(raw.spanId), value: num(raw.asDouble) ?? num(raw.asInt) ?? 0, timeUnixNano: String(raw.timeUnixNano ?? '0') };
}

function metricOf(scope: string, raw: Obj): ReceivedMetric {
  const common = { scope, name: String(raw.name), unit: String(raw.unit ?? ''), description: String(raw.description ?? '') };
  const sum = raw.sum as Obj | undefined;
  if (sum) {
    return {
      ...common,
      kind: 'sum',
      temporality: num(sum.aggregationTemporality),
      monotonic: sum.isMonotonic === true,
      points: list(sum.dataPoints).map(pointOf),
    };
  }
  const histogram = raw.histogram as Obj | undefined;
  if (histogram) {
    return { ...common, kind: 'histogram', temporality: num(histogram.aggregationTemporality), points: list(histogram.dataPoints).map(pointOf) };
  }
  const gauge = raw.gauge as Obj | undefined;
  if (gauge) return { ...common, kind: 'gauge', points: list(gauge.dataPoints).map(pointOf) };
  return { ...common, kind: 'other', points: [] };
}

/** A decoded ExportMetricsServiceRequest, flattened for assertions. */
export function normaliseRequest(raw: RawExportRequest): ReceivedResource[] {
  return list(raw.resourceMetrics).map((resourceMetrics) => ({
    attributes: attributesOf((resourceMetrics.resource as Obj | undefined)?.attributes),
    metrics: list(resourceMetrics.scopeMetrics).flatMap((scoped) => {
      const scope = String((scoped.scope as Obj | undefined)?.name ?? '');
      return list(scoped.metrics).map((metric) => metricOf(scope, metric));
    }),
  }));
}
