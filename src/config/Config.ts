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
  /** Serve /metrics over HTTPS; `certfile` and `keyfile` are then required. */
  readonly enabled: boolean;
  /** PEM certificate (chain) file; empty when unset. */
  readonly certfile: string;
  /** PEM private key file; empty when unset. */
  readonly keyfile: string;
  /** PEM CA bundle that client certificates must chain to; empty: clients are not asked for one. */
  readonly clientCafile: string;
  /** Refuse scrapers without a client certificate signed by `clientCafile` (mutual TLS). */
  readonly clientAuthRequired: boolean;
}

/** The Prometheus endpoint and the embedded store's directory. */
export interface PrometheusConfig {
  /** Port of the merged /metrics endpoint; 0 picks any free port. */
  readonly metricsPort: number;
  /** Address the /metrics endpoint listens on (`0.0.0.0`, `::`, a host name). */
  readonly bindAddress: string;
  /** Path of the merged metrics (default `/metrics`); `/healthz` is served beside it. */
  readonly metricsPath: string;
  /** Prometheus web configuration file (TLS, basic auth, headers); empty for none. */
  readonly webConfigFile: string;
  /** Embedded store directory; empty means a private temporary directory. */
  readonly multiprocDir: string;
  /** HTTPS for the /metrics endpoint. */
  readonly ssl: EndpointTlsConfig;
}

/**
 * Upstream `gunicorn:` section: the supervisor settings of
 * `otel-cluster-exporter run`. Under the preload the app forks its own
 * workers and these are informational.
 */
export interface GunicornConfig {
  /** Workers `run` starts; defaults to `os.availableParallelism()`. */
  readonly workers: number;
  /** Seconds without a heartbeat from a worker's event loop before it is SIGKILLed; 0 is off. */
  readonly timeout: number;
  /** Seconds a retiring worker gets to finish in-flight requests before SIGKILL. */
  readonly gracefulTimeout: number;
  /** Responses after which a worker is replaced; 0 is off. */
  readonly maxRequests: number;
  /** Upper bound of the random amount added to `maxRequests` per worker. */
  readonly maxRequestsJitter: number;
  /** RSS, MiB, above which a worker is replaced; 0 is off. */
  readonly maxMemoryMb: number;
  /** Keep-alive timeout, seconds, for worker HTTP servers left at Node's default; 0 leaves them alone. */
  readonly keepalive: number;
  /** Extra Node options for every worker. */
  readonly nodeArgs: readonly string[];
}

/** Redis store (issue #3). */
export interface RedisConfig {
  /** Keep snapshots in Redis instead of the embedded file store. */
  readonly enabled: boolean;
  /** `redis://` or `rediss://`; when set it wins over host/port/db/password/username. */
  readonly url: string;
  /** Server host name or address (without `url`, sentinels or cluster nodes). */
  readonly host: string;
  /** Server port. */
  readonly port: number;
  /** Database number. */
  readonly db: number;
  /** ACL user name; empty for none. */
  readonly username: string;
  /** Password; empty for none. A secret: never logged or printed unmasked. */
  readonly password: string;
  /** May contain `:`. */
  readonly keyPrefix: string;
  /** How long a silent worker's keys live; refreshed by a heartbeat while it lives. */
  readonly ttlSeconds: number;
  /** Keep keys without expiry; dead workers' keys are then removed only by the primary. */
  readonly ttlDisabled: boolean;
  /** TLS to Redis; also turned on by a `rediss://` URL. */
  readonly tls: {
    /** Connect over TLS. */
    readonly enabled: boolean;
    /** PEM CA bundle that verifies the server; empty: the system's trusted CAs. */
    readonly caFile: string;
    /** PEM client certificate (with `keyFile`); empty for none. */
    readonly certFile: string;
    /** PEM client private key (with `certFile`); empty for none. */
    readonly keyFile: string;
    /** Refuse a server certificate that does not verify. */
    readonly rejectUnauthorized: boolean;
  };
  /** Sentinel nodes; when any are set, the master named `sentinelName` is used. */
  readonly sentinels: readonly { readonly host: string; readonly port: number }[];
  /** Master name known to the sentinels. */
  readonly sentinelName: string;
  /** Redis Cluster seed nodes; when any are set, cluster mode is used. */
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
  /** Request duration histogram boundaries, seconds, strictly increasing. */
  readonly durationBuckets: readonly number[];
  /** Request and response size histogram boundaries, bytes, strictly increasing. */
  readonly sizeBuckets: readonly number[];
  /** Distinct `endpoint` values per worker before the rest fold into one overflow value. */
  readonly maxEndpoints: number;
  /** Record prom-client's default runtime metrics per worker. */
  readonly runtime: boolean;
  /** Request paths and globs not counted at all (health checks); empty: every request counts. */
  readonly excludePaths: readonly string[];
  /** Methods recorded by name in the `method` label; every other one is `_OTHER`. */
  readonly httpMethods: readonly string[];
  /** Request series per worker slot, over all its lives, before the rest go to the overflow series. */
  readonly maxRequestSeries: number;
}

/** OTLP push of the merged view (issue #4). */
export interface OtlpConfig {
  /** OTLP receiver URL; for the HTTP protocols, one without a path gets `/v1/metrics` appended. */
  readonly endpoint: string;
  /** Wire protocol. */
  readonly protocol: OtlpProtocol;
  /** Headers sent with every push (secrets such as API keys; masked in output). */
  readonly headers: Readonly<Record<string, string>>;
  /** Timeout of one OTLP request, ms; the push clamps it to the export timeout. */
  readonly timeoutMs: number;
  /** Compression of request bodies. */
  readonly compression: 'gzip' | 'none';
  /** Temporality of pushed sums and histograms: as recorded, or converted to per-interval deltas. */
  readonly temporality: 'cumulative' | 'delta';
}

/** OpenTelemetry resource and exporter selection. */
export interface OtelConfig {
  /** Resource `service.name`. */
  readonly serviceName: string;
  /** `service.instance.id`; defaults to the host name. */
  readonly instanceId: string;
  /** Further resource attributes carried by every pushed batch. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** Where the merged view goes (`OTEL_METRICS_EXPORTER`); several may be combined. */
  readonly exporters: readonly MetricsExporterName[];
  /** Interval between pushes of the merged view (otlp, console), ms. */
  readonly exportIntervalMs: number;
  /** Time allowed for one push, ms; at most the export interval. */
  readonly exportTimeoutMs: number;
  /** The OTLP destination. */
  readonly otlp: OtlpConfig;
}

/** Which snapshots `serve` (and the primary) merge. */
export type ServeScope = 'instance' | 'service' | 'all';

/** The standalone `serve` command. */
export interface ServeConfig {
  /** Which snapshots are merged: this instance's, this service's, or every one in the store. */
  readonly scope: ServeScope;
}

/** The whole effective configuration. */
export interface ExporterConfig {
  /** The /metrics endpoint and the embedded store's directory (`exporter.prometheus`). */
  readonly prometheus: PrometheusConfig;
  /** Supervisor settings of `run`; upstream Gunicorn keys (`exporter.gunicorn`). */
  readonly gunicorn: GunicornConfig;
  /** The Redis store (`exporter.redis`). */
  readonly redis: RedisConfig;
  /** Startup cleanup of the store directory (`exporter.cleanup`). */
  readonly cleanup: CleanupConfig;
  /** What workers record and how often they persist it (`exporter.metrics`). */
  readonly metrics: MetricsConfig;
  /** OpenTelemetry resource, exporter selection and OTLP push (`exporter.otel`). */
  readonly otel: OtelConfig;
  /** The standalone `serve` command (`exporter.serve`). */
  readonly serve: ServeConfig;
  /** The YAML file the configuration came from, if any. */
  readonly sourceFile?: string;
}
