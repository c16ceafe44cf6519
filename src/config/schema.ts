/**
 * The one declarative table of configuration keys. Parsing (YAML and
 * environment), validation, the effective-configuration dump and the README
 * reference table are all driven from here; no other file knows a key name,
 * an environment variable, a range or a default.
 *
 * Paths are snake_case under the YAML root `exporter:`; the field of
 * {@link ExporterConfig} is the camelCase form of the same path
 * (`redis.key_prefix` → `config.redis.keyPrefix`).
 */
import { DEFAULT_DURATION_BUCKETS, DEFAULT_SIZE_BUCKETS } from '../catalogue/MetricCatalogue';
import { STANDARD_HTTP_METHODS } from '../worker/methodLabel';
import type { MetricsExporterName, OtlpProtocol, ServeScope } from './Config';
import { availableParallelism } from 'node:os';
import { argList, boolean, bucketList, hostPortList, integer, methodList, oneOf, pathList, stringMap, text, url, wordList, type HostPort, type ValueType } from './valueTypes';

/** Reads another key's resolved value (by snake_case path) while defaults and adjustments are computed. */
export type ResolvedLookup = (path: string) => unknown;

/** What a computed default may depend on. */
export interface DefaultContext {
  readonly hostname: string;
  readonly get: ResolvedLookup;
}

/** An environment variable that needs more than "read the value": a doc note and an adjustment. */
export interface EnvVariableSpec {
  readonly name: string;
  /** Shown next to the name in the reference table. */
  readonly note: string;
  /** Rewrites the value once every key is resolved (e.g. appends `/v1/metrics`). */
  adjust(value: unknown, get: ResolvedLookup): unknown;
}

/** An environment variable feeding a key: a plain name or a {@link EnvVariableSpec}. */
export type EnvVariable = string | EnvVariableSpec;

/** How a secret is masked in output. */
export type SecretKind = 'value' | 'mapValues' | 'urlPassword';

/** A value lifted out of a map key into another key (resource attributes → service name). */
export interface DerivedKey {
  /** The map entry, e.g. `service.name`. */
  readonly attribute: string;
  /** The key it sets, unless that key is set explicitly in the same layer. */
  readonly path: string;
}

/** One configuration key. */
export interface ConfigKey {
  /** snake_case path under `exporter:`. */
  readonly path: string;
  /** Other YAML paths meaning the same key (upstream README layouts). */
  readonly aliases?: readonly string[];
  readonly type: ValueType<unknown>;
  /** A value, or a function computing one from the host and other keys. */
  readonly default: unknown;
  /** How the default reads in documentation when it is computed. */
  readonly defaultText?: string;
  /** Environment variables, highest precedence first: the first non-empty one wins. */
  readonly env: readonly EnvVariable[];
  readonly secret?: SecretKind;
  readonly derives?: readonly DerivedKey[];
  readonly description: string;
}

/** A check spanning several keys; reported against `path`. */
export interface ConfigRule {
  readonly path: string;
  /** Completes "expected …". */
  readonly expected: string;
  holds(get: ResolvedLookup): boolean;
}

/** Typed constructor so each entry's default is checked against its value type. */
function key<T>(spec: {
  readonly path: string;
  readonly aliases?: readonly string[];
  readonly type: ValueType<T>;
  readonly default: T | ((ctx: DefaultContext) => T);
  readonly defaultText?: string;
  readonly env: readonly EnvVariable[];
  readonly secret?: SecretKind;
  readonly derives?: readonly DerivedKey[];
  readonly description: string;
}): ConfigKey {
  return spec;
}

const PORT = integer(1, 65535);
const OTLP_HTTP_DEFAULT = 'http://localhost:4318/v1/metrics';
const OTLP_GRPC_DEFAULT = 'http://localhost:4317';

/**
 * Applies the OTel rule for the generic endpoint variable: for HTTP protocols
 * the signal path `v1/metrics` is appended to the base URL's path; gRPC uses it as is.
 */
export function appendMetricsPath(endpoint: string): string {
  const parsed = new URL(endpoint);
  const base = parsed.pathname.endsWith('/') ? parsed.pathname : `${parsed.pathname}/`;
  parsed.pathname = `${base}v1/metrics`;
  return parsed.toString();
}

const GENERIC_OTLP_ENDPOINT: EnvVariableSpec = {
  name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  note: 'base URL; `/v1/metrics` is appended for http/* protocols',
  adjust: (value, get) => (typeof value === 'string' && value !== '' && String(get('otel.otlp.protocol')).startsWith('http') ? appendMetricsPath(value) : value),
};

/** Upstream's `ssl:` sat at the root in its README example and under `prometheus:` in its code; both are accepted. */
const sslAlias = (leaf: string): readonly string[] => [`ssl.${leaf}`];

/** Every configuration key, in documentation order. */
export const CONFIG_KEYS: readonly ConfigKey[] = [
  key({
    path: 'prometheus.metrics_port',
    type: integer(0, 65535),
    default: 9091,
    env: ['PROMETHEUS_METRICS_PORT', 'OTEL_EXPORTER_PROMETHEUS_PORT'],
    description: 'Port of the merged /metrics endpoint (0: any free port). The upstream variable wins over the OTel one.',
  }),
  key({
    path: 'prometheus.bind_address',
    type: text({ nonEmpty: true }),
    default: '0.0.0.0',
    env: ['PROMETHEUS_BIND_ADDRESS', 'OTEL_EXPORTER_PROMETHEUS_HOST'],
    description: 'Address the /metrics endpoint listens on. The upstream variable wins over the OTel one.',
  }),
  key({
    path: 'prometheus.metrics_path',
    type: text({ nonEmpty: true }),
    default: '/metrics',
    env: ['PROMETHEUS_METRICS_PATH'],
    description: 'Path the merged metrics are served at (`/healthz` stays beside it, unauthenticated).',
  }),
  key({
    path: 'prometheus.web_config_file',
    type: text(),
    default: '',
    env: ['PROMETHEUS_WEB_CONFIG_FILE'],
    description: 'Prometheus web configuration (exporter-toolkit format): tls_server_config, http_server_config.headers, basic_auth_users with bcrypt hashes.',
  }),
  key({
    path: 'prometheus.multiproc_dir',
    type: text(),
    default: '',
    defaultText: '"" (a private temporary directory)',
    env: ['PROMETHEUS_MULTIPROC_DIR'],
    description: 'Directory of the embedded file store shared by workers and the primary.',
  }),
  key({
    path: 'prometheus.ssl.enabled',
    aliases: sslAlias('enabled'),
    type: boolean(),
    default: false,
    env: ['PROMETHEUS_SSL_ENABLED'],
    description: 'Serve /metrics over HTTPS (needs certfile and keyfile).',
  }),
  key({
    path: 'prometheus.ssl.certfile',
    aliases: sslAlias('certfile'),
    type: text(),
    default: '',
    env: ['PROMETHEUS_SSL_CERTFILE'],
    description: 'PEM certificate (chain) for HTTPS.',
  }),
  key({
    path: 'prometheus.ssl.keyfile',
    aliases: sslAlias('keyfile'),
    type: text(),
    default: '',
    env: ['PROMETHEUS_SSL_KEYFILE'],
    description: 'PEM private key for HTTPS.',
  }),
  key({
    path: 'prometheus.ssl.client_cafile',
    aliases: sslAlias('client_cafile'),
    type: text(),
    default: '',
    env: ['PROMETHEUS_SSL_CLIENT_CAFILE'],
    description: 'CA bundle that client certificates must chain to.',
  }),
  key({
    path: 'prometheus.ssl.client_auth_required',
    aliases: sslAlias('client_auth_required'),
    type: boolean(),
    default: false,
    env: ['PROMETHEUS_SSL_CLIENT_AUTH_REQUIRED'],
    description: 'Reject scrapers without a client certificate signed by client_cafile (mutual TLS).',
  }),
  key({
    path: 'gunicorn.workers',
    type: integer(1),
    default: () => availableParallelism(),
    defaultText: 'os.availableParallelism()',
    env: ['GUNICORN_WORKERS'],
    description: 'Workers `otel-cluster-exporter run` starts (-w). Under the preload the app decides; informational there.',
  }),
  key({
    path: 'gunicorn.timeout',
    type: integer(0),
    default: 30,
    env: ['GUNICORN_TIMEOUT'],
    description: '`run`: seconds a worker\'s event loop may go without a heartbeat before it is SIGKILLed and replaced (0: off).',
  }),
  key({
    path: 'gunicorn.graceful_timeout',
    type: integer(0),
    default: 30,
    env: ['GUNICORN_GRACEFUL_TIMEOUT'],
    description: '`run`: seconds a retiring worker gets to finish its requests before SIGKILL.',
  }),
  key({
    path: 'gunicorn.max_requests',
    type: integer(0),
    default: 0,
    env: ['GUNICORN_MAX_REQUESTS'],
    description: '`run`: responses after which a worker is replaced (0: never).',
  }),
  key({
    path: 'gunicorn.max_requests_jitter',
    type: integer(0),
    default: 0,
    env: ['GUNICORN_MAX_REQUESTS_JITTER'],
    description: '`run`: a random 0..jitter added to max_requests per worker, so workers do not recycle together.',
  }),
  key({
    path: 'gunicorn.max_memory_mb',
    type: integer(0),
    default: 0,
    env: ['OTEL_CLUSTER_EXPORTER_MAX_MEMORY_MB'],
    description: '`run`: RSS in MiB above which (3 samples a second apart) a worker is replaced (0: off).',
  }),
  key({
    path: 'gunicorn.keepalive',
    type: integer(0),
    default: 2,
    env: ['GUNICORN_KEEPALIVE'],
    description: '`run`: keep-alive timeout, seconds, of the workers\' HTTP servers that still have Node\'s default (5 s); 0 leaves them alone.',
  }),
  key({
    path: 'gunicorn.node_args',
    type: argList(),
    default: [] as readonly string[],
    env: ['OTEL_CLUSTER_EXPORTER_NODE_ARGS'],
    description: '`run`: extra Node options for every worker (--node-arg).',
  }),
  key({
    path: 'redis.enabled',
    type: boolean(),
    default: false,
    env: ['REDIS_ENABLED'],
    description: 'Keep snapshots in Redis instead of the embedded file store.',
  }),
  key({
    path: 'redis.url',
    type: url(['redis', 'rediss']),
    default: '',
    env: ['REDIS_URL'],
    secret: 'urlPassword',
    description: 'Connection URL; when set it wins over host, port, db, username and password.',
  }),
  key({ path: 'redis.host', type: text({ nonEmpty: true }), default: 'localhost', env: ['REDIS_HOST'], description: 'Redis host.' }),
  key({ path: 'redis.port', type: PORT, default: 6379, env: ['REDIS_PORT'], description: 'Redis port.' }),
  key({ path: 'redis.db', type: integer(0), default: 0, env: ['REDIS_DB'], description: 'Redis database number.' }),
  key({ path: 'redis.username', type: text(), default: '', env: ['REDIS_USERNAME'], description: 'Redis ACL user name.' }),
  key({ path: 'redis.password', type: text(), default: '', env: ['REDIS_PASSWORD'], secret: 'value', description: 'Redis password.' }),
  key({
    path: 'redis.key_prefix',
    type: text({ nonEmpty: true }),
    default: 'gunicorn',
    env: ['REDIS_KEY_PREFIX'],
    description: 'Prefix of every key this package writes; may contain ":".',
  }),
  key({
    path: 'redis.ttl_seconds',
    type: integer(1),
    default: 300,
    env: ['REDIS_TTL_SECONDS'],
    description: "Lifetime of a silent worker's keys; a heartbeat refreshes it while the worker lives.",
  }),
  key({
    path: 'redis.ttl_disabled',
    type: boolean(),
    default: false,
    env: ['REDIS_TTL_DISABLED'],
    description: 'Keep keys without expiry (dead workers are then removed only by the primary).',
  }),
  key({
    path: 'redis.tls.enabled',
    type: boolean(),
    default: false,
    env: ['OTEL_CLUSTER_EXPORTER_REDIS_TLS_ENABLED'],
    description: 'Connect to Redis over TLS (implied by a rediss:// URL).',
  }),
  key({ path: 'redis.tls.ca_file', type: text(), default: '', env: ['OTEL_CLUSTER_EXPORTER_REDIS_TLS_CA_FILE'], description: 'CA bundle to verify the Redis server.' }),
  key({ path: 'redis.tls.cert_file', type: text(), default: '', env: ['OTEL_CLUSTER_EXPORTER_REDIS_TLS_CERT_FILE'], description: 'Client certificate for Redis (with key_file).' }),
  key({ path: 'redis.tls.key_file', type: text(), default: '', env: ['OTEL_CLUSTER_EXPORTER_REDIS_TLS_KEY_FILE'], description: 'Client private key for Redis (with cert_file).' }),
  key({
    path: 'redis.tls.reject_unauthorized',
    type: boolean(),
    default: true,
    env: ['OTEL_CLUSTER_EXPORTER_REDIS_TLS_REJECT_UNAUTHORIZED'],
    description: 'Refuse a Redis server certificate that does not verify.',
  }),
  key({
    path: 'redis.sentinels',
    type: hostPortList(26379),
    default: [] as readonly HostPort[],
    env: ['OTEL_CLUSTER_EXPORTER_REDIS_SENTINELS'],
    description: 'Sentinel nodes; when set, the master named sentinel_name is used.',
  }),
  key({ path: 'redis.sentinel_name', type: text(), default: '', env: ['OTEL_CLUSTER_EXPORTER_REDIS_SENTINEL_NAME'], description: 'Master name known to the sentinels.' }),
  key({
    path: 'redis.cluster_nodes',
    type: hostPortList(6379),
    default: [] as readonly HostPort[],
    env: ['OTEL_CLUSTER_EXPORTER_REDIS_CLUSTER_NODES'],
    description: 'Redis Cluster seed nodes; when set, cluster mode is used.',
  }),
  key({
    path: 'cleanup.db_files',
    type: boolean(),
    default: true,
    env: ['OTEL_CLUSTER_EXPORTER_CLEANUP_DB_FILES'],
    description: "Remove this package's stale files from multiproc_dir at startup.",
  }),
  key({
    path: 'metrics.flush_interval_ms',
    type: integer(50, 1000),
    default: 500,
    env: ['OTEL_CLUSTER_EXPORTER_FLUSH_INTERVAL_MS'],
    description: 'How often each worker persists its snapshot.',
  }),
  key({
    path: 'metrics.duration_buckets',
    type: bucketList(),
    default: DEFAULT_DURATION_BUCKETS,
    env: ['OTEL_CLUSTER_EXPORTER_DURATION_BUCKETS'],
    description: 'Request duration histogram boundaries, seconds.',
  }),
  key({
    path: 'metrics.size_buckets',
    type: bucketList(),
    default: DEFAULT_SIZE_BUCKETS,
    env: ['OTEL_CLUSTER_EXPORTER_SIZE_BUCKETS'],
    description: 'Request/response size histogram boundaries, bytes.',
  }),
  key({
    path: 'metrics.max_endpoints',
    type: integer(1, 100000),
    default: 100,
    env: ['OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS'],
    description: 'Distinct endpoint label values per worker before the rest fold into one overflow value.',
  }),
  key({
    path: 'metrics.runtime',
    type: boolean(),
    default: true,
    env: ['OTEL_CLUSTER_EXPORTER_RUNTIME_METRICS'],
    description: "prom-client's default runtime metrics per worker (`process_cpu_seconds_total`, `nodejs_gc_duration_seconds`, ...); on OTLP under OpenTelemetry's runtime names.",
  }),
  key({
    path: 'metrics.exclude_paths',
    type: pathList(),
    default: [] as readonly string[],
    env: ['OTEL_CLUSTER_EXPORTER_EXCLUDE_PATHS'],
    description: 'Request paths (query string ignored) kept out of every request metric: exact paths and globs, `*` within a segment, `**` across.',
  }),
  key({
    path: 'metrics.http_methods',
    type: methodList(),
    default: STANDARD_HTTP_METHODS,
    env: ['OTEL_CLUSTER_EXPORTER_HTTP_METHODS'],
    description: 'Request methods recorded by name in the `method` label; any other method is recorded as `_OTHER`.',
  }),
  key({
    path: 'metrics.max_request_series',
    type: integer(1, 1000000),
    default: 1000,
    env: ['OTEL_CLUSTER_EXPORTER_MAX_REQUEST_SERIES'],
    description: 'Request series (method, endpoint, status) per worker slot, over all its restarts; the rest are counted in one overflow series.',
  }),
  key({
    path: 'otel.service_name',
    type: text({ nonEmpty: true }),
    default: 'unknown_service:node',
    env: ['OTEL_SERVICE_NAME'],
    description: 'Resource service.name (also taken from service.name in resource attributes of the same layer).',
  }),
  key({
    path: 'otel.instance_id',
    type: text({ nonEmpty: true }),
    default: (ctx: DefaultContext) => (ctx.hostname === '' ? 'unknown' : ctx.hostname),
    defaultText: 'the host name',
    env: ['OTEL_CLUSTER_EXPORTER_INSTANCE_ID'],
    description: 'Resource service.instance.id (also taken from service.instance.id in resource attributes).',
  }),
  key({
    path: 'otel.resource_attributes',
    type: stringMap(),
    default: {} as Readonly<Record<string, string>>,
    env: ['OTEL_RESOURCE_ATTRIBUTES'],
    derives: [
      { attribute: 'service.name', path: 'otel.service_name' },
      { attribute: 'service.instance.id', path: 'otel.instance_id' },
    ],
    description: 'Extra resource attributes; environment entries are merged over YAML ones.',
  }),
  key({
    path: 'otel.exporters',
    type: wordList<MetricsExporterName>(['prometheus', 'otlp', 'console', 'none'], 'none'),
    default: ['prometheus'] as readonly MetricsExporterName[],
    env: ['OTEL_METRICS_EXPORTER'],
    description: 'Where the merged view goes.',
  }),
  key({
    path: 'otel.export_interval_ms',
    type: integer(1),
    default: 60000,
    env: ['OTEL_METRIC_EXPORT_INTERVAL'],
    description: 'Interval between pushes of the merged view (otlp, console).',
  }),
  key({
    path: 'otel.export_timeout_ms',
    type: integer(1),
    default: (ctx: DefaultContext) => Math.min(30000, Number(ctx.get('otel.export_interval_ms'))),
    defaultText: '30000 (capped at the export interval)',
    env: ['OTEL_METRIC_EXPORT_TIMEOUT'],
    description: 'Time allowed for one push; at most the export interval.',
  }),
  key({
    path: 'otel.otlp.endpoint',
    type: url(['http', 'https']),
    default: (ctx: DefaultContext) => (ctx.get('otel.otlp.protocol') === 'grpc' ? OTLP_GRPC_DEFAULT : OTLP_HTTP_DEFAULT),
    defaultText: `${OTLP_HTTP_DEFAULT} (grpc: ${OTLP_GRPC_DEFAULT})`,
    env: ['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', GENERIC_OTLP_ENDPOINT],
    secret: 'urlPassword',
    description: 'Full metrics URL of the OTLP receiver (used as is from YAML and the METRICS variable).',
  }),
  key({
    path: 'otel.otlp.protocol',
    type: oneOf<OtlpProtocol>(['http/protobuf', 'http/json', 'grpc']),
    default: 'http/protobuf' as OtlpProtocol,
    env: ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    description: 'OTLP wire protocol.',
  }),
  key({
    path: 'otel.otlp.headers',
    type: stringMap(),
    default: {} as Readonly<Record<string, string>>,
    env: ['OTEL_EXPORTER_OTLP_METRICS_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS'],
    secret: 'mapValues',
    description: 'Headers sent with every push (values are masked in output).',
  }),
  key({
    path: 'otel.otlp.timeout_ms',
    type: integer(1),
    default: 10000,
    env: ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT'],
    description: 'Timeout of one OTLP request.',
  }),
  key({
    path: 'otel.otlp.compression',
    type: oneOf<'gzip' | 'none'>(['gzip', 'none']),
    default: 'none' as 'gzip' | 'none',
    env: ['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION'],
    description: 'Compression of OTLP request bodies.',
  }),
  key({
    path: 'otel.otlp.temporality',
    type: oneOf<'cumulative' | 'delta'>(['cumulative', 'delta'], { lowmemory: 'delta' }),
    default: 'cumulative' as 'cumulative' | 'delta',
    env: ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE'],
    description: 'Aggregation temporality of pushed sums and histograms; lowmemory is read as delta.',
  }),
  key({
    path: 'serve.scope',
    type: oneOf<ServeScope>(['instance', 'service', 'all']),
    default: 'all' as ServeScope,
    env: ['OTEL_CLUSTER_EXPORTER_SERVE_SCOPE'],
    description: 'Which snapshots `serve` merges: this instance, this service, or all in the store.',
  }),
];

/** The environment variable naming the YAML file. */
export const CONFIG_FILE_ENV = 'OTEL_CLUSTER_EXPORTER_CONFIG';

const isTrue = (v: unknown): boolean => v === true;
const isSet = (v: unknown): boolean => typeof v === 'string' && v !== '';
const isNonEmptyList = (v: unknown): boolean => Array.isArray(v) && v.length > 0;

/** Checks spanning several keys. Upstream silently ignored half-configured TLS; this package refuses it. */
export const CONFIG_RULES: readonly ConfigRule[] = [
  {
    path: 'prometheus.metrics_path',
    expected: 'a path starting with "/" other than /healthz, without "?" or "#"',
    holds: (get) => {
      const path = String(get('prometheus.metrics_path'));
      return path.startsWith('/') && path !== '/healthz' && !/[?#\s]/.test(path);
    },
  },
  {
    path: 'prometheus.ssl.certfile',
    expected: 'a certificate file when prometheus.ssl.enabled is true',
    holds: (get) => !isTrue(get('prometheus.ssl.enabled')) || isSet(get('prometheus.ssl.certfile')),
  },
  {
    path: 'prometheus.ssl.keyfile',
    expected: 'a private key file when prometheus.ssl.enabled is true',
    holds: (get) => !isTrue(get('prometheus.ssl.enabled')) || isSet(get('prometheus.ssl.keyfile')),
  },
  {
    path: 'prometheus.ssl.client_auth_required',
    expected: 'false unless prometheus.ssl.enabled is true',
    holds: (get) => !isTrue(get('prometheus.ssl.client_auth_required')) || isTrue(get('prometheus.ssl.enabled')),
  },
  {
    path: 'prometheus.ssl.client_cafile',
    expected: 'a CA file when prometheus.ssl.client_auth_required is true',
    holds: (get) => !isTrue(get('prometheus.ssl.client_auth_required')) || isSet(get('prometheus.ssl.client_cafile')),
  },
  {
    path: 'redis.tls.key_file',
    expected: 'a key file whenever redis.tls.cert_file is set, and neither without the other',
    holds: (get) => isSet(get('redis.tls.cert_file')) === isSet(get('redis.tls.key_file')),
  },
  {
    path: 'redis.tls.enabled',
    expected: 'true (or a rediss:// redis.url) when redis.tls files are given',
    holds: (get) =>
      isTrue(get('redis.tls.enabled')) ||
      String(get('redis.url')).startsWith('rediss:') ||
      !['redis.tls.ca_file', 'redis.tls.cert_file', 'redis.tls.key_file'].some((p) => isSet(get(p))),
  },
  {
    path: 'redis.sentinel_name',
    expected: 'the master name when redis.sentinels is set',
    holds: (get) => !isNonEmptyList(get('redis.sentinels')) || isSet(get('redis.sentinel_name')),
  },
  {
    path: 'redis.cluster_nodes',
    expected: 'an empty list when redis.sentinels is set (sentinel and cluster modes exclude each other)',
    holds: (get) => !(isNonEmptyList(get('redis.sentinels')) && isNonEmptyList(get('redis.cluster_nodes'))),
  },
  {
    path: 'otel.export_timeout_ms',
    expected: 'at most otel.export_interval_ms',
    holds: (get) => Number(get('otel.export_timeout_ms')) <= Number(get('otel.export_interval_ms')),
  },
];

/** The environment variable name of an {@link EnvVariable}. */
export function envName(variable: EnvVariable): string {
  return typeof variable === 'string' ? variable : variable.name;
}

/** `redis.key_prefix` → `keyPrefix` segments: the ExporterConfig field path of a schema path. */
export function fieldPath(path: string): string[] {
  return path.split('.').map((segment) => segment.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()));
}
