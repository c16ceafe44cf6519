/**
 * The one configuration schema (valibot). Every key, its environment
 * variables, default, type, description and every check — cross-key rules
 * included — is declared here; parsing, validation, the effective-configuration
 * dump, the README reference table and `check-config --help` all read it, and
 * {@link ExporterConfig} is inferred from it.
 *
 * Fields are the camelCase form of the YAML keys under the root `exporter:`
 * (`redis.key_prefix` → `config.redis.keyPrefix`).
 */
import { availableParallelism } from 'node:os';
import * as v from 'valibot';
import { DEFAULT_DURATION_BUCKETS, DEFAULT_SIZE_BUCKETS } from '../catalogue/MetricCatalogue';
import { otlpMetricsUrl } from './otlpEndpoint';
import { STANDARD_HTTP_METHODS } from '../worker/methodLabel';
import {
  MAX_TIMER_MS,
  argList,
  boolean,
  bucketList,
  hostPortList,
  integer,
  listenAddress,
  methodList,
  oneOf,
  pathList,
  stringMap,
  text,
  url,
  wordList,
  type ValueKind,
} from './valueTypes';

/** Reads another key's resolved value (by snake_case path) while computed defaults and adjustments run. */
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

/** Everything about one key besides its value kind. */
export interface SettingSpec<T> {
  /** A value, or a function computing one from the host and other keys. */
  readonly default: T | ((ctx: DefaultContext) => T);
  /** How the default reads in documentation when it is computed. */
  readonly defaultText?: string;
  /** Environment variables, highest precedence first: the first non-empty one wins. */
  readonly env: readonly EnvVariable[];
  /** Other YAML paths (snake_case, under `exporter:`) meaning the same key (upstream README layouts). */
  readonly aliases?: readonly string[];
  readonly secret?: SecretKind;
  readonly derives?: readonly DerivedKey[];
  /** Rewrites the resolved value whatever layer it came from (the OTLP URL rule). */
  readonly finish?: (value: T, get: ResolvedLookup) => T;
  readonly description: string;
}

/** One configuration key as the parser and the documentation see it. */
export interface ConfigKey extends SettingSpec<unknown> {
  /** snake_case path under `exporter:`. */
  readonly path: string;
  /** The field path in {@link ExporterConfig}. */
  readonly fields: readonly string[];
  readonly kind: ValueKind<unknown>;
  /** The key's own schema (the value kind's). */
  readonly schema: v.GenericSchema<unknown, unknown>;
}

/** A check spanning several keys, reported against `path`. */
export interface ConfigRule {
  /** snake_case path of the key the problem is reported on. */
  readonly path: string;
  /** Completes "expected …". */
  readonly expected: string;
}

const SETTING = 'otel-cluster-exporter.setting';

/** A key: its value kind, with its environment variables, default and description as schema metadata. */
function setting<T>(kind: ValueKind<T>, spec: SettingSpec<T>) {
  return v.pipe(kind.schema, v.metadata({ [SETTING]: { ...spec, kind } }));
}

const OTLP_HTTP_DEFAULT = 'http://localhost:4318/v1/metrics';
const OTLP_GRPC_DEFAULT = 'http://localhost:4317';

const GENERIC_OTLP_ENDPOINT: EnvVariableSpec = {
  name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  note: 'base URL; `/v1/metrics` is appended for http/* protocols',
  adjust: (value, get) => (typeof value === 'string' && value !== '' ? otlpMetricsUrl(value, String(get('otel.otlp.protocol')), 'base') : value),
};

/** Upstream's `ssl:` sat at the root in its README example and under `prometheus:` in its code; both are accepted. */
const sslAlias = (leaf: string): readonly string[] => [`ssl.${leaf}`];
const PORT = integer(1, 65535);
const TIMER_MS = integer(1, MAX_TIMER_MS);
/** Seconds that become a Node timer (ms) must stay within its range. */
const SECONDS = integer(0, Math.floor(MAX_TIMER_MS / 1000));
const EXPORTERS = ['prometheus', 'otlp', 'console', 'none'] as const;
/** The metrics path: `/healthz` is served beside it, and a query or fragment could never match a request. */
const METRICS_PATH: ValueKind<string> = {
  ...text({ nonEmpty: true }),
  schema: v.pipe(
    text().schema,
    v.check((path) => path.startsWith('/') && path !== '/healthz' && !/[?#\s]/.test(path)),
  ),
  label: 'path',
  expected: 'a path starting with "/" other than /healthz, without "?" or "#"',
};

const SECTIONS = {
  prometheus: v.object({
    metricsPort: setting(integer(0, 65535), {
      default: 9091,
      env: ['PROMETHEUS_METRICS_PORT', 'OTEL_EXPORTER_PROMETHEUS_PORT'],
      description: 'Port of the merged /metrics endpoint (0: any free port). The upstream variable wins over the OTel one.',
    }),
    bindAddress: setting(listenAddress(), {
      default: '0.0.0.0',
      env: ['PROMETHEUS_BIND_ADDRESS', 'OTEL_EXPORTER_PROMETHEUS_HOST'],
      description:
        'Address the /metrics endpoint listens on: an address of this host, or a name resolving to one (checked at startup). The upstream variable wins over the OTel one.',
    }),
    metricsPath: setting(METRICS_PATH, {
      default: '/metrics',
      env: ['PROMETHEUS_METRICS_PATH'],
      description: 'Path the merged metrics are served at (`/healthz` stays beside it, unauthenticated).',
    }),
    webConfigFile: setting(text(), {
      default: '',
      env: ['PROMETHEUS_WEB_CONFIG_FILE'],
      description:
        'Prometheus web configuration (exporter-toolkit format): tls_server_config, http_server_config.headers, basic_auth_users with bcrypt hashes; read and checked at startup.',
    }),
    multiprocDir: setting(text(), {
      default: '',
      defaultText: '"" (a private temporary directory)',
      env: ['PROMETHEUS_MULTIPROC_DIR'],
      description: 'Directory of the embedded file store shared by workers and the primary; checked at startup with a probe write.',
    }),
    ssl: v.object({
      enabled: setting(boolean(), {
        default: false,
        aliases: sslAlias('enabled'),
        env: ['PROMETHEUS_SSL_ENABLED'],
        description: 'Serve /metrics over HTTPS (needs certfile and keyfile).',
      }),
      certfile: setting(text(), {
        default: '',
        aliases: sslAlias('certfile'),
        env: ['PROMETHEUS_SSL_CERTFILE'],
        description: 'PEM certificate (chain) for HTTPS; read and matched with keyfile at startup.',
      }),
      keyfile: setting(text(), { default: '', aliases: sslAlias('keyfile'), env: ['PROMETHEUS_SSL_KEYFILE'], description: 'PEM private key for HTTPS.' }),
      clientCafile: setting(text(), {
        default: '',
        aliases: sslAlias('client_cafile'),
        env: ['PROMETHEUS_SSL_CLIENT_CAFILE'],
        description: 'CA bundle that client certificates must chain to.',
      }),
      clientAuthRequired: setting(boolean(), {
        default: false,
        aliases: sslAlias('client_auth_required'),
        env: ['PROMETHEUS_SSL_CLIENT_AUTH_REQUIRED'],
        description: 'Reject scrapers without a client certificate signed by client_cafile (mutual TLS).',
      }),
    }),
  }),
  gunicorn: v.object({
    workers: setting(integer(1), {
      default: () => availableParallelism(),
      defaultText: 'os.availableParallelism()',
      env: ['GUNICORN_WORKERS'],
      description: 'Workers `otel-cluster-exporter run` starts (-w). Under the preload the app decides; informational there.',
    }),
    timeout: setting(SECONDS, {
      default: 30,
      env: ['GUNICORN_TIMEOUT'],
      description: "`run`: seconds a worker's event loop may go without a heartbeat before it is SIGKILLed and replaced (0: off).",
    }),
    gracefulTimeout: setting(SECONDS, {
      default: 30,
      env: ['GUNICORN_GRACEFUL_TIMEOUT'],
      description: '`run`: seconds a retiring worker gets to finish its requests before SIGKILL.',
    }),
    maxRequests: setting(integer(0), {
      default: 0,
      env: ['GUNICORN_MAX_REQUESTS'],
      description: '`run`: responses after which a worker is replaced (0: never).',
    }),
    maxRequestsJitter: setting(integer(0), {
      default: 0,
      env: ['GUNICORN_MAX_REQUESTS_JITTER'],
      description: '`run`: a random 0..jitter added to max_requests per worker, so workers do not recycle together.',
    }),
    maxMemoryMb: setting(integer(0), {
      default: 0,
      env: ['OTEL_CLUSTER_EXPORTER_MAX_MEMORY_MB'],
      description: '`run`: RSS in MiB above which (3 samples a second apart) a worker is replaced (0: off).',
    }),
    keepalive: setting(SECONDS, {
      default: 2,
      env: ['GUNICORN_KEEPALIVE'],
      description: "`run`: keep-alive timeout, seconds, of the workers' HTTP servers that still have Node's default (5 s); 0 leaves them alone.",
    }),
    nodeArgs: setting(argList(), {
      default: [],
      env: ['OTEL_CLUSTER_EXPORTER_NODE_ARGS'],
      description: '`run`: extra Node options for every worker (--node-arg).',
    }),
  }),
  redis: v.object({
    enabled: setting(boolean(), { default: false, env: ['REDIS_ENABLED'], description: 'Keep snapshots in Redis instead of the embedded file store.' }),
    url: setting(url(['redis', 'rediss']), {
      default: '',
      env: ['REDIS_URL'],
      secret: 'urlPassword',
      description: 'Connection URL; when set it wins over host, port, db, username and password.',
    }),
    host: setting(text({ nonEmpty: true }), { default: 'localhost', env: ['REDIS_HOST'], description: 'Redis host.' }),
    port: setting(PORT, { default: 6379, env: ['REDIS_PORT'], description: 'Redis port.' }),
    db: setting(integer(0, 1_000_000), { default: 0, env: ['REDIS_DB'], description: 'Redis database number.' }),
    username: setting(text(), { default: '', env: ['REDIS_USERNAME'], description: 'Redis ACL user name.' }),
    password: setting(text(), { default: '', env: ['REDIS_PASSWORD'], secret: 'value', description: 'Redis password.' }),
    keyPrefix: setting(text({ nonEmpty: true }), {
      default: 'gunicorn',
      env: ['REDIS_KEY_PREFIX'],
      description: 'Prefix of every key this package writes; may contain ":".',
    }),
    ttlSeconds: setting(integer(1, 31_536_000), {
      default: 300,
      env: ['REDIS_TTL_SECONDS'],
      description: "Lifetime of a silent worker's keys (at most a year); a heartbeat refreshes it while the worker lives.",
    }),
    ttlDisabled: setting(boolean(), {
      default: false,
      env: ['REDIS_TTL_DISABLED'],
      description: 'Keep keys without expiry (dead workers are then removed only by the primary).',
    }),
    tls: v.object({
      enabled: setting(boolean(), {
        default: false,
        env: ['OTEL_CLUSTER_EXPORTER_REDIS_TLS_ENABLED'],
        description: 'Connect to Redis over TLS (implied by a rediss:// URL).',
      }),
      caFile: setting(text(), { default: '', env: ['OTEL_CLUSTER_EXPORTER_REDIS_TLS_CA_FILE'], description: 'CA bundle to verify the Redis server.' }),
      certFile: setting(text(), {
        default: '',
        env: ['OTEL_CLUSTER_EXPORTER_REDIS_TLS_CERT_FILE'],
        description: 'Client certificate for Redis (with key_file); read and matched at startup.',
      }),
      keyFile: setting(text(), { default: '', env: ['OTEL_CLUSTER_EXPORTER_REDIS_TLS_KEY_FILE'], description: 'Client private key for Redis (with cert_file).' }),
      rejectUnauthorized: setting(boolean(), {
        default: true,
        env: ['OTEL_CLUSTER_EXPORTER_REDIS_TLS_REJECT_UNAUTHORIZED'],
        description: 'Refuse a Redis server certificate that does not verify.',
      }),
    }),
    sentinels: setting(hostPortList(26379), {
      default: [],
      env: ['OTEL_CLUSTER_EXPORTER_REDIS_SENTINELS'],
      description: 'Sentinel nodes; when set, the master named sentinel_name is used.',
    }),
    sentinelName: setting(text(), { default: '', env: ['OTEL_CLUSTER_EXPORTER_REDIS_SENTINEL_NAME'], description: 'Master name known to the sentinels.' }),
    clusterNodes: setting(hostPortList(6379), {
      default: [],
      env: ['OTEL_CLUSTER_EXPORTER_REDIS_CLUSTER_NODES'],
      description: 'Redis Cluster seed nodes; when set, cluster mode is used.',
    }),
  }),
  cleanup: v.object({
    dbFiles: setting(boolean(), {
      default: true,
      env: ['OTEL_CLUSTER_EXPORTER_CLEANUP_DB_FILES'],
      description: "Remove this package's stale files from multiproc_dir at startup.",
    }),
  }),
  metrics: v.object({
    flushIntervalMs: setting(integer(50, 1000), {
      default: 500,
      env: ['OTEL_CLUSTER_EXPORTER_FLUSH_INTERVAL_MS'],
      description: 'How often each worker persists its snapshot.',
    }),
    durationBuckets: setting(bucketList(), {
      default: DEFAULT_DURATION_BUCKETS,
      env: ['OTEL_CLUSTER_EXPORTER_DURATION_BUCKETS'],
      description: 'Request duration histogram boundaries, seconds.',
    }),
    sizeBuckets: setting(bucketList(), {
      default: DEFAULT_SIZE_BUCKETS,
      env: ['OTEL_CLUSTER_EXPORTER_SIZE_BUCKETS'],
      description: 'Request/response size histogram boundaries, bytes.',
    }),
    maxEndpoints: setting(integer(1, 100_000), {
      default: 100,
      env: ['OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS'],
      description: 'Distinct endpoint label values per worker before the rest fold into one overflow value.',
    }),
    httpMethods: setting(methodList(), {
      default: STANDARD_HTTP_METHODS,
      env: ['OTEL_CLUSTER_EXPORTER_HTTP_METHODS'],
      description: 'Request methods recorded by name in the `method` label; any other method is recorded as `_OTHER`.',
    }),
    maxRequestSeries: setting(integer(1, 1_000_000), {
      default: 1000,
      env: ['OTEL_CLUSTER_EXPORTER_MAX_REQUEST_SERIES'],
      description: 'Request series (method, endpoint, status) per worker slot, over all its restarts; the rest are counted in one overflow series.',
    }),
    runtime: setting(boolean(), {
      default: true,
      env: ['OTEL_CLUSTER_EXPORTER_RUNTIME_METRICS'],
      description:
        "prom-client's default runtime metrics per worker (`process_cpu_seconds_total`, `nodejs_gc_duration_seconds`, ...); on OTLP under OpenTelemetry's runtime names.",
    }),
    excludePaths: setting(pathList(), {
      default: [],
      env: ['OTEL_CLUSTER_EXPORTER_EXCLUDE_PATHS'],
      description: 'Request paths (query string ignored) kept out of every request metric: exact paths and globs, `*` within a segment, `**` across.',
    }),
  }),
  otel: v.object({
    serviceName: setting(text({ nonEmpty: true }), {
      default: 'unknown_service:node',
      env: ['OTEL_SERVICE_NAME'],
      description: 'Resource service.name (also taken from service.name in resource attributes of the same layer).',
    }),
    instanceId: setting(text({ nonEmpty: true }), {
      default: (ctx) => (ctx.hostname === '' ? 'unknown' : ctx.hostname),
      defaultText: 'the host name',
      env: ['OTEL_CLUSTER_EXPORTER_INSTANCE_ID'],
      description: 'Resource service.instance.id (also taken from service.instance.id in resource attributes).',
    }),
    resourceAttributes: setting(stringMap(), {
      default: {},
      env: ['OTEL_RESOURCE_ATTRIBUTES'],
      derives: [
        { attribute: 'service.name', path: 'otel.service_name' },
        { attribute: 'service.instance.id', path: 'otel.instance_id' },
      ],
      description: 'Extra resource attributes; environment entries are merged over YAML ones.',
    }),
    exporters: setting(wordList(EXPORTERS, 'none'), { default: ['prometheus'], env: ['OTEL_METRICS_EXPORTER'], description: 'Where the merged view goes.' }),
    exportIntervalMs: setting(TIMER_MS, {
      default: 60000,
      env: ['OTEL_METRIC_EXPORT_INTERVAL'],
      description: 'Interval between pushes of the merged view (otlp, console).',
    }),
    exportTimeoutMs: setting(TIMER_MS, {
      default: (ctx) => Math.min(30000, Number(ctx.get('otel.export_interval_ms'))),
      defaultText: '30000 (capped at the export interval)',
      env: ['OTEL_METRIC_EXPORT_TIMEOUT'],
      description: 'Time allowed for one push; at most the export interval.',
    }),
    otlp: v.object({
      endpoint: setting(url(['http', 'https']), {
        default: (ctx) => (ctx.get('otel.otlp.protocol') === 'grpc' ? OTLP_GRPC_DEFAULT : OTLP_HTTP_DEFAULT),
        defaultText: `${OTLP_HTTP_DEFAULT} (grpc: ${OTLP_GRPC_DEFAULT})`,
        env: ['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', GENERIC_OTLP_ENDPOINT],
        secret: 'urlPassword',
        finish: (value, get) => (value === '' ? value : otlpMetricsUrl(value, String(get('otel.otlp.protocol')), 'signal')),
        description:
          'Metrics URL of the OTLP receiver: from YAML and the METRICS variable a URL with a path is used as is, one without a path gets /v1/metrics for http/* protocols.',
      }),
      protocol: setting(oneOf(['http/protobuf', 'http/json', 'grpc']), {
        default: 'http/protobuf',
        env: ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
        description: 'OTLP wire protocol.',
      }),
      headers: setting(stringMap(), {
        default: {},
        env: ['OTEL_EXPORTER_OTLP_METRICS_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS'],
        secret: 'mapValues',
        description: 'Headers sent with every push (values are masked in output).',
      }),
      timeoutMs: setting(TIMER_MS, {
        default: 10000,
        env: ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT'],
        description: 'Timeout of one OTLP request.',
      }),
      compression: setting(oneOf(['gzip', 'none']), {
        default: 'none',
        env: ['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION'],
        description: 'Compression of OTLP request bodies.',
      }),
      temporality: setting(oneOf(['cumulative', 'delta'], { lowmemory: 'delta' }), {
        default: 'cumulative',
        env: ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE'],
        description: 'Aggregation temporality of pushed sums and histograms; lowmemory is read as delta.',
      }),
    }),
  }),
  serve: v.object({
    scope: setting(oneOf(['instance', 'service', 'all']), {
      default: 'all',
      env: ['OTEL_CLUSTER_EXPORTER_SERVE_SCOPE'],
      description: 'Which snapshots `serve` merges: this instance, this service, or all in the store.',
    }),
  }),
  logging: v.object({
    quiet: setting(boolean(), {
      default: false,
      env: ['OTEL_CLUSTER_EXPORTER_QUIET'],
      description: 'Leave out the startup line naming the metrics URL (problems are still logged).',
    }),
  }),
};

type Sections = v.InferOutput<v.ObjectSchema<typeof SECTIONS, undefined>>;

/** A cross-key check: the valibot action for the schema and its line in the reference. */
interface CrossCheck extends ConfigRule {
  readonly action: v.BaseValidation<Sections, Sections, v.BaseIssue<unknown>>;
}

/** `prometheus.ssl.certfile` → `['prometheus', 'ssl', 'certfile']` field path. */
export function fieldPath(path: string): string[] {
  return path.split('.').map((segment) => segment.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()));
}

/** valibot's `partialCheck` and `forward`, typed for paths computed from strings (valibot types them from literal tuples). */
type Validation = v.BaseValidation<Sections, Sections, v.BaseIssue<unknown>>;
const partialCheck = v.partialCheck as unknown as (paths: readonly (readonly string[])[], requirement: (c: Sections) => boolean, message: string) => Validation;
const forward = v.forward as unknown as (action: Validation, path: readonly string[]) => Validation;

/**
 * A rule over the merged configuration, reported on `path`. It runs only when
 * every key it reads (`reads`, snake_case paths) passed its own check, so one
 * bad value does not also show up as a rule violation.
 */
function crossCheck(path: string, reads: readonly string[], expected: string, holds: (c: Sections) => boolean): CrossCheck {
  const paths = [...new Set([path, ...reads])].map(fieldPath);
  return { path, expected, action: forward(partialCheck(paths, holds, expected), fieldPath(path)) };
}

const isSet = (s: string): boolean => s !== '';
const hasBraces = (s: string): boolean => /[{}]/.test(s);

/**
 * Why a Redis key prefix cannot be used, or undefined: with Redis Cluster a
 * `{` or `}` in it would become the hash tag and scatter an instance's keys
 * over slots its scripts cannot reach together.
 */
export function redisKeyPrefixProblem(redis: { readonly keyPrefix: string; readonly clusterNodes: readonly unknown[] }): string | undefined {
  if (redis.keyPrefix === '') return 'a non-empty key prefix';
  return redis.clusterNodes.length > 0 && hasBraces(redis.keyPrefix)
    ? 'a prefix without { or } when redis.cluster_nodes is set (Redis Cluster reads braces as a hash tag)'
    : undefined;
}

/** Checks spanning several keys. Upstream silently ignored half-configured TLS; this package refuses it. */
const CROSS_CHECKS: readonly CrossCheck[] = [
  crossCheck(
    'prometheus.ssl.certfile',
    ['prometheus.ssl.enabled'],
    'a certificate file when prometheus.ssl.enabled is true',
    (c) => !c.prometheus.ssl.enabled || isSet(c.prometheus.ssl.certfile),
  ),
  crossCheck(
    'prometheus.ssl.keyfile',
    ['prometheus.ssl.enabled'],
    'a private key file when prometheus.ssl.enabled is true',
    (c) => !c.prometheus.ssl.enabled || isSet(c.prometheus.ssl.keyfile),
  ),
  crossCheck(
    'prometheus.ssl.client_auth_required',
    ['prometheus.ssl.enabled'],
    'false unless prometheus.ssl.enabled is true',
    (c) => !c.prometheus.ssl.clientAuthRequired || c.prometheus.ssl.enabled,
  ),
  crossCheck(
    'prometheus.ssl.client_cafile',
    ['prometheus.ssl.client_auth_required'],
    'a CA file when prometheus.ssl.client_auth_required is true',
    (c) => !c.prometheus.ssl.clientAuthRequired || isSet(c.prometheus.ssl.clientCafile),
  ),
  crossCheck(
    'redis.tls.key_file',
    ['redis.tls.cert_file'],
    'a key file whenever redis.tls.cert_file is set, and neither without the other',
    (c) => isSet(c.redis.tls.certFile) === isSet(c.redis.tls.keyFile),
  ),
  crossCheck(
    'redis.tls.enabled',
    ['redis.url', 'redis.tls.ca_file', 'redis.tls.cert_file', 'redis.tls.key_file'],
    'true (or a rediss:// redis.url) when redis.tls files are given',
    (c) => c.redis.tls.enabled || c.redis.url.startsWith('rediss:') || ![c.redis.tls.caFile, c.redis.tls.certFile, c.redis.tls.keyFile].some(isSet),
  ),
  crossCheck('redis.sentinel_name', ['redis.sentinels'], 'the master name when redis.sentinels is set', (c) => c.redis.sentinels.length === 0 || isSet(c.redis.sentinelName)),
  crossCheck(
    'redis.cluster_nodes',
    ['redis.sentinels'],
    'an empty list when redis.sentinels is set (sentinel and cluster modes exclude each other)',
    (c) => c.redis.sentinels.length === 0 || c.redis.clusterNodes.length === 0,
  ),
  crossCheck(
    'redis.db',
    ['redis.cluster_nodes'],
    '0 when redis.cluster_nodes is set (Redis Cluster has only database 0)',
    (c) => c.redis.clusterNodes.length === 0 || c.redis.db === 0,
  ),
  crossCheck(
    'redis.key_prefix',
    ['redis.cluster_nodes'],
    'a prefix without { or } when redis.cluster_nodes is set (Redis Cluster reads braces as a hash tag)',
    (c) => redisKeyPrefixProblem(c.redis) === undefined,
  ),
  crossCheck('otel.export_timeout_ms', ['otel.export_interval_ms'], 'at most otel.export_interval_ms', (c) => c.otel.exportTimeoutMs <= c.otel.exportIntervalMs),
];

/** The whole configuration schema: every key, then every cross-key rule. */
export const EXPORTER_SCHEMA = v.pipe(v.object(SECTIONS), ...CROSS_CHECKS.map((c) => c.action));

/** The cross-key rules, for documentation. */
export const CONFIG_RULES: readonly ConfigRule[] = CROSS_CHECKS.map(({ path, expected }) => ({ path, expected }));

/** snake_case form of a camelCase field. */
function snake(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

interface ObjectLike {
  readonly type: string;
  readonly entries?: Readonly<Record<string, v.GenericSchema>>;
}

/** Every key of the schema, in declaration (= documentation) order. */
function collectKeys(entries: Readonly<Record<string, v.GenericSchema>>, fields: readonly string[]): ConfigKey[] {
  return Object.entries(entries).flatMap(([field, schema]) => {
    const here = [...fields, field];
    const metadata: Record<string, unknown> = v.getMetadata(schema);
    const meta = metadata[SETTING] as (SettingSpec<unknown> & { kind: ValueKind<unknown> }) | undefined;
    if (meta !== undefined) return [{ ...meta, path: here.map(snake).join('.'), fields: here, schema }];
    const nested = (schema as ObjectLike).entries;
    if (nested === undefined) throw new Error(`configuration schema: ${here.join('.')} is neither a setting nor a section`);
    return collectKeys(nested, here);
  });
}

/** Every configuration key, in documentation order. */
export const CONFIG_KEYS: readonly ConfigKey[] = collectKeys(SECTIONS, []);

/** The environment variable naming the YAML file (defined where a worker can read it without the schema). */
export { CONFIG_FILE_ENV } from './configHandoff';

/** The environment variable name of an {@link EnvVariable}. */
export function envName(variable: EnvVariable): string {
  return typeof variable === 'string' ? variable : variable.name;
}
