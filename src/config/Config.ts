/**
 * The effective configuration, after defaults, the YAML file and the
 * environment have been applied (in that order, the later winning).
 *
 * YAML keys are the snake_case forms of these fields under the root
 * `exporter:`; the upstream gunicorn-prometheus-exporter layout is a subset.
 */

/** Where the merged view goes. */
export type MetricsExporterName = 'prometheus' | 'otlp' | 'console' | 'none';

/** OTLP wire protocol. */
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

/** TLS for the /metrics endpoint (upstream `prometheus.ssl`). */
export interface EndpointTlsConfig {
  readonly enabled: boolean;
  readonly certfile: string;
  readonly keyfile: string;
  readonly clientCafile: string;
  readonly clientAuthRequired: boolean;
}

/** The Prometheus endpoint and the embedded store's directory. */
export interface PrometheusConfig {
  readonly metricsPort: number;
  readonly bindAddress: string;
  /** Embedded store directory; empty means a private temporary directory. */
  readonly multiprocDir: string;
  readonly ssl: EndpointTlsConfig;
}

/** Upstream `gunicorn:` section. Accepted for compatibility; `workers` is informational. */
export interface GunicornConfig {
  readonly workers: number;
  readonly timeout: number;
  readonly keepalive: number;
}

/** Redis store (issue #3). */
export interface RedisConfig {
  readonly enabled: boolean;
  /** `redis://` or `rediss://`; when set it wins over host/port/db/password/username. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username: string;
  readonly password: string;
  /** May contain `:`. */
  readonly keyPrefix: string;
  /** How long a silent worker's keys live; refreshed by a heartbeat while it lives. */
  readonly ttlSeconds: number;
  readonly ttlDisabled: boolean;
  readonly tls: { readonly enabled: boolean; readonly caFile: string; readonly certFile: string; readonly keyFile: string; readonly rejectUnauthorized: boolean };
  readonly sentinels: readonly { readonly host: string; readonly port: number }[];
  readonly sentinelName: string;
  readonly clusterNodes: readonly { readonly host: string; readonly port: number }[];
}

/** Upstream `cleanup:` section. */
export interface CleanupConfig {
  /** Remove this package's stale files from the store directory at startup. */
  readonly dbFiles: boolean;
}

/** What workers record and how often they persist it. */
export interface MetricsConfig {
  /** How often each worker persists its snapshot, ms. At most 1000. */
  readonly flushIntervalMs: number;
  readonly durationBuckets: readonly number[];
  readonly sizeBuckets: readonly number[];
  /** Distinct `endpoint` values per worker before the rest fold into one overflow value. */
  readonly maxEndpoints: number;
}

/** OTLP push of the merged view (issue #4). */
export interface OtlpConfig {
  readonly endpoint: string;
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly compression: 'gzip' | 'none';
  readonly temporality: 'cumulative' | 'delta';
}

/** OpenTelemetry resource and exporter selection. */
export interface OtelConfig {
  readonly serviceName: string;
  /** `service.instance.id`; defaults to the host name. */
  readonly instanceId: string;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly exporters: readonly MetricsExporterName[];
  readonly exportIntervalMs: number;
  readonly exportTimeoutMs: number;
  readonly otlp: OtlpConfig;
}

/** Which snapshots `serve` (and the primary) merge. */
export type ServeScope = 'instance' | 'service' | 'all';

/** The standalone `serve` command. */
export interface ServeConfig {
  readonly scope: ServeScope;
}

/** The whole effective configuration. */
export interface ExporterConfig {
  readonly prometheus: PrometheusConfig;
  readonly gunicorn: GunicornConfig;
  readonly redis: RedisConfig;
  readonly cleanup: CleanupConfig;
  readonly metrics: MetricsConfig;
  readonly otel: OtelConfig;
  readonly serve: ServeConfig;
  /** The YAML file the configuration came from, if any. */
  readonly sourceFile?: string;
}
