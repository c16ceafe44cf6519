/**
 * The one declarative list of every metric this package records.
 *
 * Instruments, the README's metric table and the Grafana dashboard are all
 * derived from this file; no other file spells a metric name as a literal.
 * Names are OpenTelemetry instrument names (what OTLP carries); the name a
 * Prometheus scrape shows is derived by {@link prometheusName}.
 */

/** How a metric aggregates, in OpenTelemetry terms. */
export type MetricKind = 'counter' | 'updowncounter' | 'gauge' | 'histogram';

/** Which process records a metric. */
export type RecordedBy = 'worker' | 'primary' | 'exporter';

/** Label (attribute) names used by the catalogue. */
export const LABEL = {
  workerId: 'worker_id',
  method: 'method',
  endpoint: 'endpoint',
  status: 'status',
  errorType: 'error_type',
  state: 'state',
  reason: 'reason',
  restartType: 'restart_type',
  instance: 'instance',
  store: 'store',
  operation: 'operation',
  exporter: 'exporter',
  serviceName: 'service_name',
  serviceInstanceId: 'service_instance_id',
  space: 'space',
  gcKind: 'kind',
  version: 'version',
  major: 'major',
  minor: 'minor',
  patch: 'patch',
} as const;

/** One metric of the catalogue. */
export interface MetricDefinition {
  /** OpenTelemetry instrument name; Prometheus adds `_total` to counters. */
  readonly name: string;
  /** How it aggregates; decides the OpenTelemetry instrument, and so the Prometheus type. */
  readonly kind: MetricKind;
  /**
   * UCUM unit as OpenTelemetry expects it (`s`, `By`, `%`, `1`). Gauges that
   * count things use a `{annotation}` rather than `1`: a collector's Prometheus
   * translation turns gauge unit `1` into a `_ratio` suffix, which would rename them.
   */
  readonly unit: string;
  /**
   * Labels on the wire. For worker-recorded metrics the merge adds `worker_id`
   * from the snapshot's slot; primary-recorded metrics carry it themselves.
   */
  readonly labels: readonly string[];
  /** Default explicit bucket boundaries for histograms (configurable). */
  readonly buckets?: readonly number[];
  /** One-sentence description: the instrument's description and the Prometheus `HELP` line. */
  readonly help: string;
  /** Which process records it. */
  readonly recordedBy: RecordedBy;
  /** True when the name exists in the upstream Python exporter. */
  readonly upstream: boolean;
  /**
   * The OpenTelemetry semantic-convention name (and attribute names) OTLP
   * carries instead, for metrics whose name follows another convention on
   * Prometheus (prom-client's runtime metrics).
   */
  readonly otlp?: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
}

/**
 * Latency boundaries: every upstream boundary (0.1 0.5 1 2.5 5 10 30 60) is
 * kept so `le` queries written for Gunicorn still match, plus lower ones where
 * Node latencies live.
 */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60];

/** Body size boundaries: upstream's 1 KiB to 4 MiB plus smaller ones for JSON APIs. */
export const DEFAULT_SIZE_BUCKETS: readonly number[] = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];

/** prom-client's `nodejs_gc_duration_seconds` boundaries. */
export const GC_DURATION_BUCKETS: readonly number[] = [0.001, 0.01, 0.1, 1, 2, 5];

const HTTP_LABELS = [LABEL.workerId, LABEL.method, LABEL.endpoint, LABEL.status] as const;
const ERROR_LABELS = [LABEL.workerId, LABEL.method, LABEL.endpoint, LABEL.errorType] as const;

/**
 * prom-client's default runtime metrics, with its exact names, types, labels
 * and units (so the common Node.js dashboards work), recorded per worker
 * when `metrics.runtime` is on. On OTLP the ones OpenTelemetry's runtime
 * conventions name travel under those names.
 */
function runtimeMetrics() {
  const worker = { recordedBy: 'worker', upstream: false } as const;
  const gauge = (name: string, unit: string, help: string, otlp?: string) =>
    ({ name, kind: 'gauge', unit, labels: [LABEL.workerId], help, ...worker, ...(otlp === undefined ? {} : { otlp: { name: otlp } }) }) as const;
  const lag = (stat: string, words: string) =>
    gauge(`nodejs_eventloop_lag_${stat}_seconds`, 's', `The ${words} of the recorded event loop delays.`, `nodejs.eventloop.delay.${stat}`);
  return {
    runtimeCpuUser: { name: 'process_cpu_user_seconds', kind: 'counter', unit: 's', labels: [LABEL.workerId], help: 'Total user CPU time spent in seconds.', ...worker },
    runtimeCpuSystem: { name: 'process_cpu_system_seconds', kind: 'counter', unit: 's', labels: [LABEL.workerId], help: 'Total system CPU time spent in seconds.', ...worker },
    runtimeCpu: {
      name: 'process_cpu_seconds',
      kind: 'counter',
      unit: 's',
      labels: [LABEL.workerId],
      help: 'Total user and system CPU time spent in seconds.',
      ...worker,
      otlp: { name: 'process.cpu.time' },
    },
    runtimeStartTime: gauge('process_start_time_seconds', 's', 'Start time of the process since unix epoch in seconds.'),
    runtimeResidentMemory: gauge('process_resident_memory_bytes', 'By', 'Resident memory size in bytes.', 'process.memory.usage'),
    runtimeOpenFds: gauge('process_open_fds', '{file_descriptor}', 'Number of open file descriptors.', 'process.open_file_descriptor.count'),
    // Linux only in prom-client too (read from /proc/self/status and /proc/self/limits).
    runtimeVirtualMemory: gauge('process_virtual_memory_bytes', 'By', 'Virtual memory size in bytes.', 'process.memory.virtual'),
    runtimeProcessHeap: gauge('process_heap_bytes', 'By', 'Process heap size in bytes.'),
    runtimeMaxFds: gauge('process_max_fds', '{file_descriptor}', 'Maximum number of open file descriptors.'),
    runtimeEventLoopLag: gauge('nodejs_eventloop_lag_seconds', 's', 'Lag of event loop in seconds.'),
    runtimeEventLoopLagMin: lag('min', 'minimum'),
    runtimeEventLoopLagMax: lag('max', 'maximum'),
    runtimeEventLoopLagMean: lag('mean', 'mean'),
    runtimeEventLoopLagStddev: lag('stddev', 'standard deviation'),
    runtimeEventLoopLagP50: lag('p50', '50th percentile'),
    runtimeEventLoopLagP90: lag('p90', '90th percentile'),
    runtimeEventLoopLagP99: lag('p99', '99th percentile'),
    runtimeActiveHandles: gauge('nodejs_active_handles_total', '{handle}', 'Total number of active handles.'),
    runtimeHeapTotal: gauge('nodejs_heap_size_total_bytes', 'By', 'Process heap size from Node.js in bytes.'),
    runtimeHeapUsed: gauge('nodejs_heap_size_used_bytes', 'By', 'Process heap size used from Node.js in bytes.'),
    runtimeHeapSpaceUsed: {
      name: 'nodejs_heap_space_size_used_bytes',
      kind: 'gauge',
      unit: 'By',
      labels: [LABEL.workerId, LABEL.space],
      help: 'Process heap space size used from Node.js in bytes.',
      ...worker,
      otlp: { name: 'v8js.memory.heap.used', labels: { [LABEL.space]: 'v8js.heap.space.name' } },
    },
    runtimeGcDuration: {
      name: 'nodejs_gc_duration_seconds',
      kind: 'histogram',
      unit: 's',
      labels: [LABEL.workerId, LABEL.gcKind],
      buckets: GC_DURATION_BUCKETS,
      help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
      ...worker,
      otlp: { name: 'v8js.gc.duration', labels: { [LABEL.gcKind]: 'v8js.gc.type' } },
    },
    runtimeVersionInfo: {
      name: 'nodejs_version_info',
      kind: 'gauge',
      unit: '{version}',
      labels: [LABEL.workerId, LABEL.version, LABEL.major, LABEL.minor, LABEL.patch],
      help: 'Node.js version info.',
      ...worker,
    },
  } as const;
}

/** Every metric, keyed by the handle code uses to refer to it. */
export const CATALOGUE = {
  requests: {
    name: 'gunicorn_worker_requests',
    kind: 'counter',
    unit: '1',
    labels: HTTP_LABELS,
    help: 'Requests that reached the app, whatever their outcome.',
    recordedBy: 'worker',
    upstream: true,
  },
  requestDuration: {
    name: 'gunicorn_worker_request_duration_seconds',
    kind: 'histogram',
    unit: 's',
    labels: HTTP_LABELS,
    buckets: DEFAULT_DURATION_BUCKETS,
    help: 'Time from the request reaching the app to the response being finished.',
    recordedBy: 'worker',
    upstream: true,
  },
  requestSize: {
    name: 'gunicorn_worker_request_size_bytes',
    kind: 'histogram',
    unit: 'By',
    labels: HTTP_LABELS,
    buckets: DEFAULT_SIZE_BUCKETS,
    help: 'Request body size in bytes (Content-Length or counted chunked bytes).',
    recordedBy: 'worker',
    upstream: true,
  },
  responseSize: {
    name: 'gunicorn_worker_response_size_bytes',
    kind: 'histogram',
    unit: 'By',
    labels: HTTP_LABELS,
    buckets: DEFAULT_SIZE_BUCKETS,
    help: 'Response body size in bytes (Content-Length or counted chunked bytes).',
    recordedBy: 'worker',
    upstream: true,
  },
  failedRequests: {
    name: 'gunicorn_worker_failed_requests',
    kind: 'counter',
    unit: '1',
    labels: ERROR_LABELS,
    help: 'Requests answered with status >= 500 or ended without a complete response.',
    recordedBy: 'worker',
    upstream: true,
  },
  errorHandling: {
    name: 'gunicorn_worker_error_handling',
    kind: 'counter',
    unit: '1',
    labels: ERROR_LABELS,
    help: 'Errors the server handled itself: malformed requests, errors emitted on request or response.',
    recordedBy: 'worker',
    upstream: true,
  },
  memory: {
    name: 'gunicorn_worker_memory_bytes',
    kind: 'gauge',
    unit: 'By',
    labels: [LABEL.workerId],
    help: 'Resident set size of the worker process.',
    recordedBy: 'worker',
    upstream: true,
  },
  cpu: {
    name: 'gunicorn_worker_cpu_percent',
    kind: 'gauge',
    unit: '%',
    labels: [LABEL.workerId],
    help: 'CPU used by the worker over the last sampling interval, as a percentage of one core.',
    recordedBy: 'worker',
    upstream: true,
  },
  uptime: {
    name: 'gunicorn_worker_uptime_seconds',
    kind: 'gauge',
    unit: 's',
    labels: [LABEL.workerId],
    help: 'Seconds since the worker process started.',
    recordedBy: 'worker',
    upstream: true,
  },
  state: {
    name: 'gunicorn_worker_state',
    kind: 'gauge',
    unit: '{state}',
    labels: [LABEL.workerId, LABEL.state],
    help: 'Current state of the worker: 1 for the state it is in, 0 for the others.',
    recordedBy: 'primary',
    upstream: true,
  },
  workerRestarts: {
    name: 'gunicorn_worker_restart',
    kind: 'counter',
    unit: '1',
    labels: [LABEL.workerId, LABEL.reason],
    help: 'Worker exits seen by the primary, by reason.',
    recordedBy: 'primary',
    upstream: true,
  },
  workerRestartCount: {
    name: 'gunicorn_worker_restart_count',
    kind: 'counter',
    unit: '1',
    labels: [LABEL.workerId, LABEL.restartType, LABEL.reason],
    help: 'Worker exits seen by the primary, by restart type and reason.',
    recordedBy: 'primary',
    upstream: true,
  },
  masterRestarts: {
    name: 'gunicorn_master_worker_restart',
    kind: 'counter',
    unit: '1',
    labels: [LABEL.reason],
    help: 'Worker exits handled by the primary, by reason, over all workers (under run also TTIN, USR1, USR2 signals).',
    recordedBy: 'primary',
    upstream: true,
  },
  masterRestartCount: {
    name: 'gunicorn_master_worker_restart_count',
    kind: 'counter',
    unit: '1',
    labels: [LABEL.workerId, LABEL.reason, LABEL.restartType],
    help: 'Worker exits handled by the primary, by worker slot, reason and restart type.',
    recordedBy: 'primary',
    upstream: true,
  },
  workers: {
    name: 'gunicorn_workers',
    kind: 'gauge',
    unit: '{worker}',
    labels: [],
    help: 'Live worker processes.',
    recordedBy: 'primary',
    upstream: false,
  },
  workersDesired: {
    name: 'gunicorn_workers_desired',
    kind: 'gauge',
    unit: '{worker}',
    labels: [],
    help: 'Workers the supervisor (otel-cluster-exporter run) aims to keep running: --workers, changed by TTIN/TTOU.',
    recordedBy: 'primary',
    upstream: false,
  },
  activeRequests: {
    name: 'gunicorn_worker_active_requests',
    kind: 'gauge',
    unit: '{request}',
    labels: [LABEL.workerId],
    help: 'Requests in flight in the worker.',
    recordedBy: 'worker',
    upstream: false,
  },
  eventLoopDelay: {
    name: 'gunicorn_worker_event_loop_delay_seconds',
    kind: 'gauge',
    unit: 's',
    labels: [LABEL.workerId],
    help: 'Mean event-loop delay of the worker over the last sampling interval.',
    recordedBy: 'worker',
    upstream: false,
  },
  eventLoopDelayP99: {
    name: 'gunicorn_worker_event_loop_delay_p99_seconds',
    kind: 'gauge',
    unit: 's',
    labels: [LABEL.workerId],
    help: '99th percentile event-loop delay of the worker over the last sampling interval.',
    recordedBy: 'worker',
    upstream: false,
  },
  heapUsed: {
    name: 'gunicorn_worker_heap_used_bytes',
    kind: 'gauge',
    unit: 'By',
    labels: [LABEL.workerId],
    help: 'V8 heap used by the worker.',
    recordedBy: 'worker',
    upstream: false,
  },
  ...runtimeMetrics(),
  storeErrors: {
    name: 'otel_cluster_exporter_store_errors',
    kind: 'counter',
    unit: '1',
    labels: [LABEL.store, LABEL.operation],
    help: 'Failed operations against the snapshot store.',
    recordedBy: 'exporter',
    upstream: false,
  },
  snapshotAge: {
    name: 'otel_cluster_exporter_snapshot_age_seconds',
    kind: 'gauge',
    unit: 's',
    labels: [],
    help: 'Age of the oldest live snapshot when the merged view was built: how stale the view can be.',
    recordedBy: 'exporter',
    upstream: false,
  },
  scrapeDuration: {
    name: 'otel_cluster_exporter_scrape_duration_seconds',
    kind: 'gauge',
    unit: 's',
    labels: [],
    help: 'Time the previous scrape took to read, merge and render the store.',
    recordedBy: 'exporter',
    upstream: false,
  },
  storeUp: {
    name: 'otel_cluster_exporter_store_up',
    kind: 'gauge',
    unit: '{status}',
    labels: [LABEL.store],
    help: '1 when the last read of the snapshot store succeeded, 0 otherwise.',
    recordedBy: 'exporter',
    upstream: false,
  },
  exportErrors: {
    name: 'otel_cluster_exporter_export_errors',
    kind: 'counter',
    unit: '1',
    labels: [LABEL.exporter],
    help: 'Failed pushes of the merged view to an OTLP endpoint.',
    recordedBy: 'exporter',
    upstream: false,
  },
  identityConflicts: {
    name: 'otel_cluster_exporter_identity_conflicts',
    kind: 'counter',
    unit: '1',
    labels: [LABEL.serviceName, LABEL.serviceInstanceId],
    help: 'Pairs of live processes found writing under the same service instance and worker slot (two instances claiming one identity).',
    recordedBy: 'exporter',
    upstream: false,
  },
  instrumentationErrors: {
    name: 'otel_cluster_exporter_instrumentation_errors',
    kind: 'counter',
    unit: '1',
    labels: [LABEL.workerId],
    help: 'Exceptions inside the HTTP instrumentation, caught before they could reach the app.',
    recordedBy: 'exporter',
    upstream: false,
  },
} as const satisfies Record<string, MetricDefinition>;

/** A handle into {@link CATALOGUE}. */
export type MetricKey = keyof typeof CATALOGUE;

/** All definitions, in catalogue order. */
export const ALL_METRICS: readonly MetricDefinition[] = Object.values(CATALOGUE);

/** The instrumentation scope every catalogue instrument is created under. */
export const SCOPE_NAME = 'otel-cluster-exporter';

/**
 * The name a Prometheus scrape shows for a definition: counters gain `_total`,
 * the same rule @opentelemetry/exporter-prometheus applies.
 */
export function prometheusName(definition: Pick<MetricDefinition, 'name' | 'kind'>): string {
  return definition.kind === 'counter' && !definition.name.endsWith('_total') ? `${definition.name}_total` : definition.name;
}
