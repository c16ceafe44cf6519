/**
 * The per-request hot path: one Map lookup keyed by the endpoint, a scan of
 * that endpoint's few (method, status) series, then plain arithmetic on typed
 * arrays. Nothing here allocates per request once a series exists, hashes
 * attribute objects, or calls into OpenTelemetry; turning the totals into
 * OpenTelemetry data happens at collection time (see HttpMetricProducer).
 *
 * Why not one Map keyed by `method + status + endpoint`: building that key
 * makes a fresh string per request that V8 must flatten and hash before the
 * lookup (measured ~160-210 ns per request on Node 20). Endpoint strings come
 * from the RouteNormaliser's cache or the framework's route objects, so they
 * are the same string objects each time with their hash already computed, and
 * the lookup plus scan costs ~20-25 ns.
 */

import { OTHER_METHOD } from './methodLabel';
import { OVERFLOW_ENDPOINT } from './RouteNormaliser';

/**
 * Histogram cells of one series, laid out flat so an update touches one
 * array: `[count, sum, min, max, bucket0, ..., bucketN]` where bucket `i`
 * counts values `<= boundaries[i]` (and above the previous boundary), and the
 * last bucket counts values above every boundary.
 */
export type HistogramCells = Float64Array;

/** Index of the count cell in {@link HistogramCells}. */
export const CELL_COUNT = 0;
/** Index of the sum cell in {@link HistogramCells}. */
export const CELL_SUM = 1;
/** Index of the min cell in {@link HistogramCells}. */
export const CELL_MIN = 2;
/** Index of the max cell in {@link HistogramCells}. */
export const CELL_MAX = 3;
/** Index of the first bucket cell in {@link HistogramCells}. */
export const CELL_BUCKETS = 4;

/** The trace an observation belongs to (an OpenTelemetry `SpanContext` fits). */
export interface TraceRef {
  readonly traceId: string;
  readonly spanId: string;
}

/** The latest traced observation of one duration bucket. */
export interface BucketExemplar {
  /** Seconds. */
  readonly value: number;
  /** Epoch milliseconds. */
  readonly timeMs: number;
  readonly traceId: string;
  readonly spanId: string;
}

/** Cumulative totals of one (method, endpoint, status) combination. */
export interface RequestSeries {
  /** `method` label: the request method. */
  readonly method: string;
  /** `endpoint` label: the normalised route. */
  readonly endpoint: string;
  /** `status` label: the response status code as text. */
  readonly status: string;
  /** `status` as a number, compared on the hot path. */
  readonly statusCode: number;
  /** Epoch milliseconds when the series was created: the start of its cumulative data. */
  readonly startTimeMs: number;
  /** Requests counted; equals the count cell of each histogram. */
  count: number;
  /** Request duration histogram, seconds. */
  readonly duration: HistogramCells;
  /** Request body size histogram, bytes. */
  readonly requestSize: HistogramCells;
  /** Response body size histogram, bytes. */
  readonly responseSize: HistogramCells;
  /**
   * Per duration bucket, the latest observation made inside a sampled trace;
   * allocated on the first one, so untraced apps carry nothing. One slot per
   * bucket: memory is bounded by the series count.
   */
  durationExemplars: (BucketExemplar | undefined)[] | undefined;
}

/** Cumulative count of one (method, endpoint, error_type) combination. */
export interface ErrorSeries {
  /** `method` label: the request method. */
  readonly method: string;
  /** `endpoint` label: the normalised route. */
  readonly endpoint: string;
  /** `error_type` label: what went wrong (an error code, class name or one of the `ERROR_*` values). */
  readonly errorType: string;
  /** Epoch milliseconds when the series was created. */
  readonly startTimeMs: number;
  /** Errors counted. */
  value: number;
}

/** Options of {@link RequestAccumulator}. */
export interface RequestAccumulatorOptions {
  /** Explicit duration bucket boundaries in seconds, strictly increasing. */
  readonly durationBuckets: readonly number[];
  /** Explicit size bucket boundaries in bytes, strictly increasing (request and response). */
  readonly sizeBuckets: readonly number[];
  /** Epoch-millisecond clock for series start times (tests pin it). */
  readonly now?: () => number;
  /**
   * Request series (distinct method, endpoint, status) kept by name; requests
   * of any further combination are counted in the one overflow series
   * ({@link OVERFLOW_SERIES}). Unlimited when absent.
   */
  readonly maxSeries?: number;
}

/**
 * Labels of the one request series that takes every request past the series
 * budget: the method, the endpoint and the status are all folded, so the
 * budget holds whatever mix of labels the traffic brings.
 */
export const OVERFLOW_SERIES = { method: OTHER_METHOD, endpoint: OVERFLOW_ENDPOINT, status: OTHER_METHOD } as const;
/** statusCode of the overflow series: no real status matches it. */
const OVERFLOW_STATUS_CODE = -1;

/** Separator of error-series key parts (a rare path); cannot occur in a method or a request path. */
const SEP = '\u0001';

function checkBoundaries(name: string, boundaries: readonly number[]): Float64Array {
  for (let i = 0; i < boundaries.length; i++) {
    const value = boundaries[i] as number;
    if (!Number.isFinite(value) || (i > 0 && value <= (boundaries[i - 1] as number))) {
      throw new RangeError(`RequestAccumulator: ${name} must be finite and strictly increasing, got [${boundaries.join(', ')}]`);
    }
  }
  return Float64Array.from(boundaries);
}

function newCells(boundaryCount: number): HistogramCells {
  const cells = new Float64Array(CELL_BUCKETS + boundaryCount + 1);
  cells[CELL_MIN] = Infinity;
  cells[CELL_MAX] = -Infinity;
  return cells;
}

/**
 * Add one observation to histogram cells; returns the bucket it fell in.
 * Linear scan: with ~16 boundaries it beats a binary search.
 */
function observe(cells: HistogramCells, boundaries: Float64Array, value: number): number {
  cells[CELL_COUNT]! += 1;
  cells[CELL_SUM]! += value;
  if (value < (cells[CELL_MIN] as number)) cells[CELL_MIN] = value;
  if (value > (cells[CELL_MAX] as number)) cells[CELL_MAX] = value;
  const n = boundaries.length;
  let i = 0;
  while (i < n && value > (boundaries[i] as number)) i++;
  cells[CELL_BUCKETS + i]! += 1;
  return i;
}

/**
 * The worker's in-memory store of HTTP request totals, cumulative since the
 * series first appeared. Cardinality is bounded by its callers (the endpoint
 * comes from a RouteNormaliser, methods and statuses from Node's parser).
 */
export class RequestAccumulator {
  /** Duration boundaries, seconds. */
  readonly durationBoundaries: Float64Array;
  /** Size boundaries, bytes. */
  readonly sizeBoundaries: Float64Array;
  private readonly now: () => number;
  private readonly maxSeries: number;
  private seriesCount = 0;
  private overflow: RequestSeries | undefined;
  /** Endpoint → its series; a handful per endpoint (methods × statuses). */
  private readonly requests = new Map<string, RequestSeries[]>();
  private readonly failures = new Map<string, ErrorSeries>();
  private readonly errorsHandled = new Map<string, ErrorSeries>();
  private changes = 0;

  /** @throws RangeError naming the option when a boundary list is not finite and strictly increasing. */
  constructor(options: RequestAccumulatorOptions) {
    this.durationBoundaries = checkBoundaries('durationBuckets', options.durationBuckets);
    this.sizeBoundaries = checkBoundaries('sizeBuckets', options.sizeBuckets);
    this.now = options.now ?? Date.now;
    this.maxSeries = options.maxSeries ?? Infinity;
  }

  /**
   * Count one finished (or abandoned) request. Sizes in bytes, duration in
   * seconds; `trace`, when the request ran in a sampled trace, becomes its
   * duration bucket's exemplar (the latest wins).
   */
  recordRequest(method: string, endpoint: string, status: number, durationSeconds: number, requestBytes: number, responseBytes: number, trace?: TraceRef): void {
    let group = this.requests.get(endpoint);
    if (group === undefined) {
      group = [];
      this.requests.set(endpoint, group);
    }
    let series: RequestSeries | undefined;
    for (let i = 0; i < group.length; i++) {
      const candidate = group[i] as RequestSeries;
      if (candidate.statusCode === status && candidate.method === method) {
        series = candidate;
        break;
      }
    }
    if (series === undefined) series = this.newSeries(group, method, endpoint, status);
    this.changes++;
    series.count++;
    const bucket = observe(series.duration, this.durationBoundaries, durationSeconds);
    if (trace !== undefined) this.keepExemplar(series, bucket, durationSeconds, trace);
    observe(series.requestSize, this.sizeBoundaries, requestBytes);
    observe(series.responseSize, this.sizeBoundaries, responseBytes);
  }

  /** Count one failed request (5xx, abort, handler error). */
  recordFailure(method: string, endpoint: string, errorType: string): void {
    this.increment(this.failures, method, endpoint, errorType);
  }

  /** Count one error the server handled itself (malformed request, stream error). */
  recordErrorHandled(method: string, endpoint: string, errorType: string): void {
    this.increment(this.errorsHandled, method, endpoint, errorType);
  }

  /**
   * Grows with every recorded request, failure or handled error. A reader that
   * sees the same generation as at its last read may reuse what it built then:
   * nothing in the accumulator changed since (one integer add per request).
   */
  get generation(): number {
    return this.changes;
  }

  /** Every request series, live (read them, do not keep them across collections). */
  *requestSeries(): IterableIterator<RequestSeries> {
    for (const group of this.requests.values()) yield* group;
  }

  /** Every failed-request series. */
  failureSeries(): IterableIterator<ErrorSeries> {
    return this.failures.values();
  }

  /** Every error-handling series. */
  errorHandlingSeries(): IterableIterator<ErrorSeries> {
    return this.errorsHandled.values();
  }

  /** A series for a combination not seen yet: its own while the budget lasts, then the overflow series. */
  private newSeries(group: RequestSeries[], method: string, endpoint: string, status: number): RequestSeries {
    if (this.seriesCount < this.maxSeries) {
      this.seriesCount++;
      return this.createRequestSeries(group, method, endpoint, String(status), status);
    }
    if (this.overflow === undefined) {
      let overflowGroup = this.requests.get(OVERFLOW_SERIES.endpoint);
      if (overflowGroup === undefined) {
        overflowGroup = [];
        this.requests.set(OVERFLOW_SERIES.endpoint, overflowGroup);
      }
      this.overflow = this.createRequestSeries(overflowGroup, OVERFLOW_SERIES.method, OVERFLOW_SERIES.endpoint, OVERFLOW_SERIES.status, OVERFLOW_STATUS_CODE);
    }
    return this.overflow;
  }

  private keepExemplar(series: RequestSeries, bucket: number, value: number, trace: TraceRef): void {
    series.durationExemplars ??= new Array<BucketExemplar | undefined>(this.durationBoundaries.length + 1).fill(undefined);
    series.durationExemplars[bucket] = { value, timeMs: this.now(), traceId: trace.traceId, spanId: trace.spanId };
  }

  private createRequestSeries(group: RequestSeries[], method: string, endpoint: string, status: string, statusCode: number): RequestSeries {
    const series: RequestSeries = {
      method,
      endpoint,
      status,
      statusCode,
      startTimeMs: this.now(),
      count: 0,
      duration: newCells(this.durationBoundaries.length),
      requestSize: newCells(this.sizeBoundaries.length),
      responseSize: newCells(this.sizeBoundaries.length),
      durationExemplars: undefined,
    };
    group.push(series);
    return series;
  }

  private increment(map: Map<string, ErrorSeries>, method: string, endpoint: string, errorType: string): void {
    this.changes++;
    const key = method + SEP + errorType + SEP + endpoint;
    const series = map.get(key);
    if (series !== undefined) {
      series.value++;
      return;
    }
    map.set(key, { method, endpoint, errorType, startTimeMs: this.now(), value: 1 });
  }
}
