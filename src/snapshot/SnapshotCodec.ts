import type {
  HistogramValue,
  LifeEnd,
  ProcessExit,
  SeriesAttributes,
  Snapshot,
  SnapshotExemplar,
  SnapshotIdentity,
  SnapshotMetric,
  SnapshotMetricKind,
  SnapshotPoint,
  SnapshotRole,
} from './Snapshot';
import { errorMessage } from '../self/errorMessage';
import { sameMetric } from './sameMetrics';
import { SnapshotFormatError } from './SnapshotFormatError';

export { SnapshotFormatError } from './SnapshotFormatError';

/**
 * The text form of a {@link Snapshot}, shared by every store.
 *
 * Layout of version 1 (JSON):
 *
 * ```text
 * { "v": 1,
 *   "identity": { service, instance, slot, pid, startTimeMs, role },
 *   "writtenAtMs": 1700000000000,
 *   "folded": ["svc|host|0|41|1700..."],             // retired snapshots only
 *   "ends": [["svc|host|0|41|1700...", "exited", 1700...]], // retired: how each folded life ended
 *   "attributes": [ { "method": "GET", ... }, ... ], // each label set once
 *   "metrics": [ { name, description, unit, kind, valueType, boundaries?,
 *                  "points": [ [attrIndex, startTimeMs, value], ... ] } ] }
 * ```
 *
 * A histogram point is `[attrIndex, startTimeMs, count, sum, [bucket counts], min, max]`
 * with `min`/`max` null when unknown. The descriptor is written once per metric
 * and each label set once per snapshot (a worker's counter and histograms share
 * them), which keeps files small and decoding close to `JSON.parse` speed.
 * Non-finite values (a gauge set to NaN) are written as `"NaN"`, `"+Inf"`, `"-Inf"`
 * because JSON has no literal for them.
 *
 * A histogram metric whose points carry exemplars adds
 * `"exemplars": [[pointIndex, bucket, value, timeMs, traceId, spanId], ...]`
 * beside its points, in point then bucket order. It is a key of its own rather
 * than a longer point so that a reader that predates exemplars still decodes
 * the snapshot (and ignores them) during a rolling upgrade.
 */
export const SNAPSHOT_FORMAT_VERSION = 1;

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const LIFE_ENDINGS: ReadonlySet<string> = new Set<LifeEnd['how']>(['exited', 'expired', 'removed', 'lost']);
const ROLES: ReadonlySet<string> = new Set<SnapshotRole>(['worker', 'primary', 'retired']);
const KINDS: ReadonlySet<string> = new Set<SnapshotMetricKind>(['counter', 'updowncounter', 'gauge', 'histogram']);

type EncodedNumber = number | 'NaN' | '+Inf' | '-Inf';
type EncodedPoint = (number | EncodedNumber | null | number[])[];

interface EncodedMetric {
  name: string;
  description: string;
  unit: string;
  kind: SnapshotMetricKind;
  valueType: 'int' | 'double';
  boundaries?: readonly number[];
  points: EncodedPoint[];
  exemplars?: EncodedExemplar[];
}

/** `[pointIndex, bucket, value, timeMs, traceId, spanId]`. */
type EncodedExemplar = [number, number, EncodedNumber, number, string, string];

/** Encode a snapshot as version-1 text. Pure; never throws for a well-typed snapshot. */
export function encodeSnapshot(snapshot: Snapshot): string {
  const table = new AttributeTable();
  const metrics: EncodedMetric[] = snapshot.metrics.map((metric) => encodeMetric(metric, table));
  const document: Record<string, unknown> = {
    v: SNAPSHOT_FORMAT_VERSION,
    identity: snapshot.identity,
    writtenAtMs: snapshot.writtenAtMs,
  };
  if (snapshot.folded !== undefined) document['folded'] = snapshot.folded;
  if (snapshot.ends !== undefined) document['ends'] = snapshot.ends.map(encodeEnd);
  if (snapshot.exit !== undefined) document['exit'] = [snapshot.exit.code, snapshot.exit.signal];
  document['attributes'] = table.entries;
  document['metrics'] = metrics;
  return JSON.stringify(document);
}

/** `[key, how, atMs]`, and `[code, signal]` when the life's exit is known. */
function encodeEnd(end: LifeEnd): unknown[] {
  return end.exit === undefined ? [end.key, end.how, end.atMs] : [end.key, end.how, end.atMs, [end.exit.code, end.exit.signal]];
}

/**
 * {@link encodeSnapshot} for a writer that encodes again and again (a worker,
 * every flush): label sets keep their index from one call to the next, and a
 * metric whose points did not change reuses its encoded text, so a flush in
 * which only a few gauges moved costs a comparison, not a re-encode. The text
 * is the same format and decodes the same; it may list label sets the
 * snapshot no longer uses (dropped when they outnumber the used ones).
 */
export class SnapshotEncoder {
  private table = new AttributeTable();
  private readonly fragments = new Map<string, { readonly metric: SnapshotMetric; readonly text: string }>();

  encode(snapshot: Snapshot): string {
    if (this.table.entries.length > 1_000 && this.table.entries.length > 2 * this.table.used) this.reset();
    this.table.startEncode();
    const parts: string[] = [];
    for (const metric of snapshot.metrics) {
      const cached = this.fragments.get(metric.name);
      if (cached !== undefined && sameMetric(cached.metric, metric)) {
        this.table.markUsed(metric);
        parts.push(cached.text);
        continue;
      }
      const text = JSON.stringify(encodeMetric(metric, this.table));
      this.fragments.set(metric.name, { metric, text });
      parts.push(text);
    }
    if (this.fragments.size > 2 * snapshot.metrics.length + 16) this.fragments.clear();
    const head: Record<string, unknown> = { v: SNAPSHOT_FORMAT_VERSION, identity: snapshot.identity, writtenAtMs: snapshot.writtenAtMs };
    if (snapshot.folded !== undefined) head['folded'] = snapshot.folded;
    if (snapshot.ends !== undefined) head['ends'] = snapshot.ends.map(encodeEnd);
    if (snapshot.exit !== undefined) head['exit'] = [snapshot.exit.code, snapshot.exit.signal];
    head['attributes'] = this.table.entries;
    const text = JSON.stringify(head);
    return `${text.slice(0, -1)},"metrics":[${parts.join(',')}]}`;
  }

  private reset(): void {
    this.table = new AttributeTable();
    this.fragments.clear();
  }
}

/** Interns label sets so each is written once per snapshot. */
class AttributeTable {
  readonly entries: SeriesAttributes[] = [];
  /** Distinct label sets the current encode uses (an estimate for reused metrics: their point count). */
  used = 0;
  private byObject = new Map<SeriesAttributes, number>();
  private readonly byText = new Map<string, number>();

  /** A new encode: objects of the previous snapshot are not kept alive. */
  startEncode(): void {
    this.byObject = new Map();
    this.used = 0;
  }

  markUsed(metric: SnapshotMetric): void {
    this.used = Math.max(this.used, metric.points.length);
  }

  indexOf(attributes: SeriesAttributes): number {
    const known = this.byObject.get(attributes);
    if (known !== undefined) return known;
    const text = JSON.stringify(attributes);
    let index = this.byText.get(text);
    if (index === undefined) {
      index = this.entries.length;
      this.entries.push(attributes);
      this.byText.set(text, index);
    }
    this.byObject.set(attributes, index);
    this.used = Math.max(this.used, this.byObject.size);
    return index;
  }
}

function encodeMetric(metric: SnapshotMetric, table: AttributeTable): EncodedMetric {
  const encoded: EncodedMetric = {
    name: metric.name,
    description: metric.description,
    unit: metric.unit,
    kind: metric.kind,
    valueType: metric.valueType,
    points: [],
  };
  if (metric.boundaries !== undefined) encoded.boundaries = metric.boundaries;
  for (const point of metric.points) {
    const head: EncodedPoint = [table.indexOf(point.attributes), point.startTimeMs];
    const value = point.value;
    if (typeof value === 'number') {
      head.push(encodeNumber(value));
    } else {
      head.push(
        value.count,
        encodeNumber(value.sum),
        value.counts as number[],
        value.min === undefined ? null : encodeNumber(value.min),
        value.max === undefined ? null : encodeNumber(value.max),
      );
      if (value.exemplars !== undefined && value.exemplars.length > 0) {
        const pointIndex = encoded.points.length;
        encoded.exemplars ??= [];
        for (const e of value.exemplars) encoded.exemplars.push([pointIndex, e.bucket, encodeNumber(e.value), e.timeMs, e.traceId, e.spanId]);
      }
    }
    encoded.points.push(head);
  }
  return encoded;
}

function encodeNumber(value: number): EncodedNumber {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

/** The label-set table each decoded snapshot was built from, for the next decode of its entry. */
const decodedTables = new WeakMap<Snapshot, readonly SeriesAttributes[]>();

/**
 * Decode and validate text written by {@link encodeSnapshot}.
 *
 * @param source names the text in error messages (file path, store key).
 * @param previous the last snapshot decoded from the same store entry, if
 *   any: a label set equal to the one at the same place in its table is
 *   handed out as that same object. A reader decodes every worker's snapshot
 *   at every scrape while label sets hardly ever change, and the merge keys a
 *   label set by its object (see KnownAttributes), so it does not rebuild the
 *   key of a label set it has seen.
 * @throws SnapshotFormatError for anything that is not a complete version-1
 *   snapshot: truncated JSON, a foreign document, a newer version, a point whose
 *   bucket counts do not match its boundaries. Never returns partial data.
 */
export function decodeSnapshot(text: string, source: string, previous?: Snapshot): Snapshot {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new SnapshotFormatError(source, '', `not valid JSON (${errorMessage(error)}); a truncated or foreign file?`);
  }
  return new Decoder(source, previous === undefined ? undefined : decodedTables.get(previous)).snapshot(document);
}

/** One decode: carries the source name into every error. */
class Decoder {
  constructor(
    private readonly source: string,
    /** The label-set table of the entry's previous decode (see {@link decodeSnapshot}). */
    private readonly previousTable: readonly SeriesAttributes[] | undefined,
  ) {}

  snapshot(document: unknown): Snapshot {
    const root = this.object(document, '', 'a snapshot object');
    if (root['v'] !== SNAPSHOT_FORMAT_VERSION) {
      throw this.fail('v', `expected format version ${SNAPSHOT_FORMAT_VERSION}, got ${show(root['v'])}`);
    }
    const identity = this.identity(root['identity']);
    const writtenAtMs = this.finite(root['writtenAtMs'], 'writtenAtMs');
    const attributes = this.attributeTable(root['attributes']);
    const rawMetrics = this.array(root['metrics'], 'metrics');
    const metrics: SnapshotMetric[] = new Array<SnapshotMetric>(rawMetrics.length);
    for (let i = 0; i < rawMetrics.length; i++) metrics[i] = this.metric(rawMetrics[i], `metrics[${i}]`, attributes);
    const snapshot: { -readonly [K in keyof Snapshot]: Snapshot[K] } = { identity, writtenAtMs, metrics };
    if (root['folded'] !== undefined) snapshot.folded = this.strings(root['folded'], 'folded');
    if (root['ends'] !== undefined) snapshot.ends = this.ends(root['ends']);
    if (root['exit'] !== undefined) snapshot.exit = this.exit(root['exit'], 'exit');
    decodedTables.set(snapshot, attributes);
    return snapshot;
  }

  private identity(value: unknown): SnapshotIdentity {
    const raw = this.object(value, 'identity', 'an identity object');
    const role = raw['role'];
    if (typeof role !== 'string' || !ROLES.has(role)) {
      throw this.fail('identity.role', `expected one of worker, primary, retired, got ${show(role)}`);
    }
    return {
      service: this.string(raw['service'], 'identity.service'),
      instance: this.string(raw['instance'], 'identity.instance'),
      slot: this.integer(raw['slot'], 'identity.slot'),
      pid: this.integer(raw['pid'], 'identity.pid'),
      startTimeMs: this.finite(raw['startTimeMs'], 'identity.startTimeMs'),
      role: role as SnapshotRole,
    };
  }

  private attributeTable(value: unknown): SeriesAttributes[] {
    const raw = this.array(value, 'attributes');
    for (let i = 0; i < raw.length; i++) {
      const entry = this.object(raw[i], `attributes[${i}]`, 'a label set object');
      for (const key in entry) {
        if (typeof entry[key] !== 'string') {
          throw this.fail(`attributes[${i}].${key}`, `expected a string label value, got ${show(entry[key])}`);
        }
      }
      const known = this.previousTable?.[i];
      if (known !== undefined && sameLabels(known, entry as SeriesAttributes)) raw[i] = known;
    }
    // JSON.parse objects have only own, string-valued properties now: safe to share as-is.
    return raw as SeriesAttributes[];
  }

  private metric(value: unknown, path: string, attributes: readonly SeriesAttributes[]): SnapshotMetric {
    const raw = this.object(value, path, 'a metric object');
    const kind = raw['kind'];
    if (typeof kind !== 'string' || !KINDS.has(kind)) {
      throw this.fail(`${path}.kind`, `expected counter, updowncounter, gauge or histogram, got ${show(kind)}`);
    }
    const valueType = raw['valueType'];
    if (valueType !== 'int' && valueType !== 'double') {
      throw this.fail(`${path}.valueType`, `expected "int" or "double", got ${show(valueType)}`);
    }
    const name = this.string(raw['name'], `${path}.name`);
    if (name === '') throw this.fail(`${path}.name`, 'expected a non-empty metric name');
    const boundaries = kind === 'histogram' ? this.boundaries(raw['boundaries'], `${path}.boundaries`) : undefined;
    const pointsPath = `${path}.points`;
    const rawPoints = this.array(raw['points'], pointsPath);
    const points: SnapshotPoint[] = new Array<SnapshotPoint>(rawPoints.length);
    for (let i = 0; i < rawPoints.length; i++) {
      points[i] =
        boundaries === undefined ? this.numberPoint(rawPoints[i], pointsPath, i, attributes) : this.histogramPoint(rawPoints[i], pointsPath, i, attributes, boundaries.length + 1);
    }
    if (boundaries !== undefined && raw['exemplars'] !== undefined) this.attachExemplars(raw['exemplars'], `${path}.exemplars`, points, boundaries.length + 1);
    const metric: { -readonly [K in keyof SnapshotMetric]: SnapshotMetric[K] } = {
      name,
      description: this.string(raw['description'], `${path}.description`),
      unit: this.string(raw['unit'], `${path}.unit`),
      kind: kind as SnapshotMetricKind,
      valueType,
      points,
    };
    if (boundaries !== undefined) metric.boundaries = boundaries;
    return metric;
  }

  /** Validate a histogram metric's exemplars and put each list on its point's value. */
  private attachExemplars(value: unknown, path: string, points: SnapshotPoint[], bucketCount: number): void {
    const raw = this.array(value, path);
    let last: { point: number; bucket: number } | undefined;
    const byPoint = new Map<number, SnapshotExemplar[]>();
    for (let i = 0; i < raw.length; i++) {
      const entry = raw[i];
      const at = `${path}[${i}]`;
      if (!Array.isArray(entry) || entry.length !== 6) throw this.fail(at, `expected [pointIndex, bucket, value, timeMs, traceId, spanId], got ${show(entry)}`);
      const [point, bucket, sample, timeMs, traceId, spanId] = entry as unknown[];
      if (!Number.isInteger(point) || (point as number) < 0 || (point as number) >= points.length)
        throw this.fail(`${at}[0]`, `expected a point index below ${points.length}, got ${show(point)}`);
      if (!Number.isInteger(bucket) || (bucket as number) < 0 || (bucket as number) >= bucketCount)
        throw this.fail(`${at}[1]`, `expected a bucket index below ${bucketCount}, got ${show(bucket)}`);
      if (last !== undefined && ((point as number) < last.point || ((point as number) === last.point && (bucket as number) <= last.bucket))) {
        throw this.fail(at, 'expected exemplars in point then bucket order, at most one per bucket');
      }
      if (typeof timeMs !== 'number') throw this.fail(`${at}[3]`, `expected a number, got ${show(timeMs)}`);
      if (typeof traceId !== 'string' || !TRACE_ID.test(traceId)) throw this.fail(`${at}[4]`, `expected a trace id of 32 hex digits, got ${show(traceId)}`);
      if (typeof spanId !== 'string' || !SPAN_ID.test(spanId)) throw this.fail(`${at}[5]`, `expected a span id of 16 hex digits, got ${show(spanId)}`);
      last = { point: point as number, bucket: bucket as number };
      const list = byPoint.get(point as number) ?? [];
      list.push({ bucket: bucket as number, value: this.sample(sample, path, i, 2), timeMs, traceId, spanId });
      byPoint.set(point as number, list);
    }
    for (const [index, exemplars] of byPoint) {
      const point = points[index] as SnapshotPoint;
      points[index] = { ...point, value: { ...(point.value as HistogramValue), exemplars } };
    }
  }

  private boundaries(value: unknown, path: string): number[] {
    const raw = this.array(value, path);
    for (let i = 0; i < raw.length; i++) {
      const boundary = raw[i];
      if (typeof boundary !== 'number' || (i > 0 && boundary <= (raw[i - 1] as number))) {
        throw this.fail(`${path}[${i}]`, `expected strictly increasing finite numbers, got ${show(boundary)}`);
      }
    }
    return raw as number[];
  }

  // Point decoders run thousands of times per read: error paths are built only when a check fails.

  private numberPoint(value: unknown, points: string, index: number, attributes: readonly SeriesAttributes[]): SnapshotPoint {
    if (!Array.isArray(value)) throw this.fail(pointAt(points, index), `expected a list, got ${show(value)}`);
    if (value.length !== 3) throw this.fail(pointAt(points, index), `expected [attributes, startTimeMs, value], got ${value.length} elements`);
    const startTimeMs: unknown = value[1];
    if (typeof startTimeMs !== 'number') throw this.fail(pointAt(points, index, 1), `expected a number, got ${show(startTimeMs)}`);
    return {
      attributes: this.attributeRef(value[0], points, index, attributes),
      startTimeMs,
      value: this.sample(value[2], points, index, 2),
    };
  }

  private histogramPoint(value: unknown, points: string, index: number, attributes: readonly SeriesAttributes[], bucketCount: number): SnapshotPoint {
    if (!Array.isArray(value)) throw this.fail(pointAt(points, index), `expected a list, got ${show(value)}`);
    if (value.length !== 7) {
      throw this.fail(pointAt(points, index), `expected [attributes, startTimeMs, count, sum, counts, min, max], got ${value.length} elements`);
    }
    const startTimeMs: unknown = value[1];
    if (typeof startTimeMs !== 'number') throw this.fail(pointAt(points, index, 1), `expected a number, got ${show(startTimeMs)}`);
    const count: unknown = value[2];
    if (typeof count !== 'number' || !(count >= 0)) throw this.fail(pointAt(points, index, 2), `expected a non-negative count, got ${show(count)}`);
    const counts: unknown = value[4];
    if (!Array.isArray(counts)) throw this.fail(pointAt(points, index, 4), `expected a list, got ${show(counts)}`);
    if (counts.length !== bucketCount) {
      throw this.fail(pointAt(points, index, 4), `expected ${bucketCount} bucket counts (boundaries + 1), got ${counts.length}`);
    }
    for (let i = 0; i < counts.length; i++) {
      const bucket: unknown = counts[i];
      if (typeof bucket !== 'number' || !(bucket >= 0)) {
        throw this.fail(`${pointAt(points, index, 4)}[${i}]`, `expected a non-negative bucket count, got ${show(bucket)}`);
      }
    }
    const histogram: { -readonly [K in keyof HistogramValue]: HistogramValue[K] } = {
      count,
      sum: this.sample(value[3], points, index, 3),
      counts: counts as number[],
    };
    if (value[5] !== null) histogram.min = this.sample(value[5], points, index, 5);
    if (value[6] !== null) histogram.max = this.sample(value[6], points, index, 6);
    return { attributes: this.attributeRef(value[0], points, index, attributes), startTimeMs, value: histogram };
  }

  private attributeRef(value: unknown, points: string, index: number, attributes: readonly SeriesAttributes[]): SeriesAttributes {
    const found = typeof value === 'number' ? attributes[value] : undefined;
    if (found === undefined) {
      throw this.fail(pointAt(points, index, 0), `expected an index into attributes (0..${attributes.length - 1}), got ${show(value)}`);
    }
    return found;
  }

  /** A sample value: a JSON number or one of the spelled-out non-finite values. */
  private sample(value: unknown, points: string, index: number, element: number): number {
    if (typeof value === 'number') return value;
    if (value === 'NaN') return NaN;
    if (value === '+Inf') return Infinity;
    if (value === '-Inf') return -Infinity;
    throw this.fail(pointAt(points, index, element), `expected a number, got ${show(value)}`);
  }

  private object(value: unknown, path: string, what: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.fail(path, `expected ${what}, got ${show(value)}`);
    }
    return value as Record<string, unknown>;
  }

  private array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) throw this.fail(path, `expected a list, got ${show(value)}`);
    return value;
  }

  private strings(value: unknown, path: string): string[] {
    const raw = this.array(value, path);
    for (let i = 0; i < raw.length; i++) this.string(raw[i], `${path}[${i}]`);
    return raw as string[];
  }

  private string(value: unknown, path: string): string {
    if (typeof value !== 'string') throw this.fail(path, `expected a string, got ${show(value)}`);
    return value;
  }

  private finite(value: unknown, path: string): number {
    if (typeof value !== 'number') throw this.fail(path, `expected a number, got ${show(value)}`);
    return value;
  }

  private ends(value: unknown): LifeEnd[] {
    const entries = this.array(value, 'ends');
    return entries.map((entry, i) => {
      const parts = this.array(entry, `ends[${i}]`);
      const [key, how, atMs, exit] = parts;
      if (typeof key !== 'string') throw this.fail(`ends[${i}][0]`, `expected a process key, got ${show(key)}`);
      if (typeof how !== 'string' || !LIFE_ENDINGS.has(how)) throw this.fail(`ends[${i}][1]`, `expected one of ${[...LIFE_ENDINGS].join(', ')}, got ${show(how)}`);
      const end = { key, how: how as LifeEnd['how'], atMs: this.finite(atMs, `ends[${i}][2]`) };
      return exit === undefined ? end : { ...end, exit: this.exit(exit, `ends[${i}][3]`) };
    });
  }

  /** `[code, signal]`: an integer or null, and a signal name (bounded) or null. */
  private exit(value: unknown, path: string): ProcessExit {
    const [code, signal] = this.array(value, path);
    if (code !== null && !Number.isSafeInteger(code)) throw this.fail(`${path}[0]`, `expected an exit code or null, got ${show(code)}`);
    if (signal !== null && (typeof signal !== 'string' || !/^SIG[A-Z0-9]{1,12}$/.test(signal)))
      throw this.fail(`${path}[1]`, `expected a signal name or null, got ${show(signal)}`);
    return { code: code as number | null, signal: signal };
  }

  private integer(value: unknown, path: string): number {
    if (!Number.isSafeInteger(value)) throw this.fail(path, `expected an integer, got ${show(value)}`);
    return value as number;
  }

  private fail(path: string, problem: string): SnapshotFormatError {
    return new SnapshotFormatError(this.source, path, problem);
  }
}

/**
 * Whether two decoded label sets hold the same names with the same values.
 * Both are JSON.parse objects (own string properties only); the order of the
 * names carries no meaning (the merge sorts them).
 */
function sameLabels(a: SeriesAttributes, b: SeriesAttributes): boolean {
  let names = 0;
  for (const name in b) {
    if (!Object.prototype.hasOwnProperty.call(a, name) || a[name] !== b[name]) return false;
    names++;
  }
  for (const name in a) if (Object.prototype.hasOwnProperty.call(a, name)) names--;
  return names === 0;
}

/** Where a point (or one of its elements) is, for an error message. */
function pointAt(points: string, index: number, element?: number): string {
  return element === undefined ? `${points}[${index}]` : `${points}[${index}][${element}]`;
}

/** A short, safe rendering of an unexpected value for an error message. */
function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value === null || typeof value !== 'object') {
    // JSON has no text for a symbol, a function or a bigint; String() does (value is not an object here).
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 40 ? `${text.slice(0, 39)}…` : text;
  }
  return 'an object';
}
