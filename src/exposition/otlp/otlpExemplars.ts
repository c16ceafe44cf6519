import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { errorMessage } from '../../self/errorMessage';
import { warnOnce } from '../../self/Logger';
import { exemplarsOf } from '../../snapshot/histogramExemplars';
import type { SnapshotExemplar } from '../../snapshot/Snapshot';

/**
 * OTLP exemplars for the official exporters.
 *
 * The OpenTelemetry JS OTLP serializers (otlp-transformer 0.22x and 0.30x)
 * write no exemplars: sdk-metrics data points have none. This wraps one
 * exporter instance's serializer: it serializes as before and then adds the
 * histogram points' exemplars (see {@link exemplarsOf}) to the bytes:
 * `HistogramDataPoint.exemplars` (field 8) for protobuf, `exemplars` for
 * JSON. Only this exporter is touched, never the shared serializer module the
 * app's own exporters use. Anything unexpected (an exporter whose internals
 * moved, bytes that do not parse) leaves the batch as the official serializer
 * wrote it, logged once: exemplars are a bonus, the metrics must go out.
 */

type Serializer = { serializeRequest(request: ResourceMetrics): Uint8Array | undefined };
type Encoding = 'protobuf' | 'json';

/** Exemplars by scope name, metric name and data point index. */
type ExemplarIndex = Map<string, Map<string, Map<number, readonly SnapshotExemplar[]>>>;

/**
 * Make `exporter` send exemplars. Returns false (and logs once) when its
 * serializer cannot be found; the exporter then works exactly as before.
 */
export function sendExemplars(exporter: PushMetricExporter, encoding: Encoding): boolean {
  const delegate = (exporter as unknown as { _delegate?: { _serializer?: Serializer } })._delegate;
  const base = delegate?._serializer;
  if (delegate === undefined || base === undefined || typeof base.serializeRequest !== 'function') {
    warnOnce('otlp-exemplars-unsupported', 'this version of the OTLP exporter cannot be given exemplars; pushing metrics without them');
    return false;
  }
  const wrapped: Serializer = Object.create(base) as Serializer;
  wrapped.serializeRequest = (request) => {
    const bytes = base.serializeRequest(request);
    if (bytes === undefined) return bytes;
    const index = indexExemplars(request);
    if (index.size === 0) return bytes;
    try {
      return encoding === 'protobuf' ? addToProtobuf(bytes, index) : addToJson(bytes, index);
    } catch (error) {
      warnOnce('otlp-exemplars-failed', `adding exemplars to an OTLP batch failed, sent without them: ${errorMessage(error)}`);
      return bytes;
    }
  };
  delegate._serializer = wrapped;
  return true;
}

function indexExemplars(request: ResourceMetrics): ExemplarIndex {
  const index: ExemplarIndex = new Map();
  for (const scope of request.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.dataPointType !== DataPointType.HISTOGRAM) continue;
      metric.dataPoints.forEach((point, pointIndex) => {
        const exemplars = exemplarsOf(point.value);
        if (exemplars === undefined) return;
        let metrics = index.get(scope.scope.name);
        if (metrics === undefined) index.set(scope.scope.name, (metrics = new Map()));
        let points = metrics.get(metric.descriptor.name);
        if (points === undefined) metrics.set(metric.descriptor.name, (points = new Map()));
        points.set(pointIndex, exemplars);
      });
    }
  }
  return index;
}

// ---- JSON: { resourceMetrics: [{ scopeMetrics: [{ scope: {name}, metrics: [{ name, histogram: { dataPoints } }] }] }] }

interface JsonMetric { name?: string; histogram?: { dataPoints?: Record<string, unknown>[] } }
interface JsonRequest { resourceMetrics?: { scopeMetrics?: { scope?: { name?: string }; metrics?: JsonMetric[] }[] }[] }

function addToJson(bytes: Uint8Array, index: ExemplarIndex): Uint8Array {
  const request = JSON.parse(new TextDecoder().decode(bytes)) as JsonRequest;
  for (const resource of request.resourceMetrics ?? []) {
    for (const scope of resource.scopeMetrics ?? []) {
      const metrics = index.get(scope.scope?.name ?? '');
      for (const metric of scope.metrics ?? []) {
        const points = metrics?.get(metric.name ?? '');
        metric.histogram?.dataPoints?.forEach((point, pointIndex) => {
          const exemplars = points?.get(pointIndex);
          if (exemplars !== undefined) point['exemplars'] = exemplars.map(jsonExemplar);
        });
      }
    }
  }
  return new TextEncoder().encode(JSON.stringify(request));
}

function jsonExemplar(exemplar: SnapshotExemplar): Record<string, unknown> {
  // OTLP/JSON spells trace and span ids in hex and 64-bit integers as decimal strings.
  return { timeUnixNano: nanos(exemplar.timeMs).toString(), asDouble: exemplar.value, spanId: exemplar.spanId, traceId: exemplar.traceId };
}

// ---- protobuf: copy the message tree, re-lengthing the messages on the path to each histogram point.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;
/** Field numbers on the path ExportMetricsServiceRequest → … → HistogramDataPoint. */
const FIELD = { resourceMetrics: 1, scopeMetrics: 2, scope: 1, scopeName: 1, metrics: 2, metricName: 1, histogram: 9, dataPoints: 1, exemplars: 8 } as const;

interface Field {
  readonly number: number;
  readonly wire: number;
  /** The whole field, tag included. */
  readonly raw: Uint8Array;
  /** For length-delimited fields, the payload. */
  readonly payload: Uint8Array | undefined;
}

function addToProtobuf(bytes: Uint8Array, index: ExemplarIndex): Uint8Array {
  return rewrite(bytes, (field) => (field.number === FIELD.resourceMetrics ? rewriteResource(field.payload!, index) : undefined));
}

function rewriteResource(resource: Uint8Array, index: ExemplarIndex): Uint8Array {
  return rewrite(resource, (field) => {
    if (field.number !== FIELD.scopeMetrics) return undefined;
    const scopeName = stringField(fields(field.payload!).find((f) => f.number === FIELD.scope)?.payload, FIELD.scopeName);
    const metrics = index.get(scopeName ?? '');
    return metrics === undefined ? undefined : rewriteScope(field.payload!, metrics);
  });
}

function rewriteScope(scope: Uint8Array, metrics: Map<string, Map<number, readonly SnapshotExemplar[]>>): Uint8Array {
  return rewrite(scope, (field) => {
    if (field.number !== FIELD.metrics) return undefined;
    const points = metrics.get(stringField(field.payload, FIELD.metricName) ?? '');
    if (points === undefined) return undefined;
    return rewrite(field.payload!, (inner) => (inner.number === FIELD.histogram ? rewriteHistogram(inner.payload!, points) : undefined));
  });
}

function rewriteHistogram(histogram: Uint8Array, points: Map<number, readonly SnapshotExemplar[]>): Uint8Array {
  let pointIndex = -1;
  return rewrite(histogram, (field) => {
    if (field.number !== FIELD.dataPoints) return undefined;
    pointIndex++;
    const exemplars = points.get(pointIndex);
    if (exemplars === undefined) return undefined;
    return concat([field.payload!, ...exemplars.map((exemplar) => lengthDelimited(FIELD.exemplars, protobufExemplar(exemplar)))]);
  });
}

/** Exemplar { time_unix_nano = 2 (fixed64); as_double = 3 (double); span_id = 4 (bytes); trace_id = 5 (bytes) }. */
function protobufExemplar(exemplar: SnapshotExemplar): Uint8Array {
  const time = Buffer.alloc(8);
  time.writeBigUInt64LE(nanos(exemplar.timeMs));
  const value = Buffer.alloc(8);
  value.writeDoubleLE(exemplar.value);
  return concat([
    tag(2, WIRE_FIXED64), time,
    tag(3, WIRE_FIXED64), value,
    lengthDelimited(4, Buffer.from(exemplar.spanId, 'hex')),
    lengthDelimited(5, Buffer.from(exemplar.traceId, 'hex')),
  ]);
}

/** Copy a message, replacing the payload of the length-delimited fields `replace` returns one for. */
function rewrite(message: Uint8Array, replace: (field: Field) => Uint8Array | undefined): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const field of fields(message)) {
    const replaced = field.wire === WIRE_LENGTH ? replace(field) : undefined;
    parts.push(replaced === undefined ? field.raw : lengthDelimited(field.number, replaced));
  }
  return concat(parts);
}

function fields(message: Uint8Array): Field[] {
  const result: Field[] = [];
  let offset = 0;
  while (offset < message.length) {
    const start = offset;
    const [key, afterTag] = readVarint(message, offset);
    offset = afterTag;
    const wire = key % 8;
    const number = Math.floor(key / 8);
    let payload: Uint8Array | undefined;
    switch (wire) {
      case WIRE_VARINT:
        offset = readVarint(message, offset)[1];
        break;
      case WIRE_FIXED64:
        offset += 8;
        break;
      case WIRE_FIXED32:
        offset += 4;
        break;
      case WIRE_LENGTH: {
        const [length, afterLength] = readVarint(message, offset);
        payload = message.subarray(afterLength, afterLength + length);
        offset = afterLength + length;
        break;
      }
      default:
        throw new Error(`unexpected protobuf wire type ${wire}`);
    }
    if (offset > message.length) throw new Error('truncated protobuf message');
    result.push({ number, wire, raw: message.subarray(start, offset), payload });
  }
  return result;
}

function stringField(message: Uint8Array | undefined, number: number): string | undefined {
  if (message === undefined) return undefined;
  const field = fields(message).find((f) => f.number === number && f.wire === WIRE_LENGTH);
  return field?.payload === undefined ? undefined : Buffer.from(field.payload).toString('utf8');
}

/** A varint at `offset` (lengths and tags: well below 2^53) and the offset after it. */
function readVarint(bytes: Uint8Array, offset: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = offset; i < bytes.length && i < offset + 10; i++) {
    const byte = bytes[i] as number;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [value, i + 1];
    scale *= 128;
  }
  throw new Error('truncated protobuf varint');
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Uint8Array.from(out);
}

function tag(number: number, wire: number): Uint8Array {
  return varint(number * 8 + wire);
}

function lengthDelimited(number: number, payload: Uint8Array): Uint8Array {
  return concat([tag(number, WIRE_LENGTH), varint(payload.length), payload]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** Epoch milliseconds as nanoseconds (past 2^53, so a bigint). */
function nanos(timeMs: number): bigint {
  return BigInt(Math.round(timeMs * 1000)) * 1000n;
}
