import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { DEFAULT_DURATION_BUCKETS, DEFAULT_SIZE_BUCKETS } from '../../src/catalogue/MetricCatalogue';
import { ConfigError } from '../../src/config/ConfigError';
import { parseConfig, type ParseConfigInput } from '../../src/config/parseConfig';

const FILE = 'exporter.yml';

function parse(yamlText: string | undefined, env: Record<string, string> = {}, hostname = 'host-a'): ReturnType<typeof parseConfig> {
  const input: ParseConfigInput = yamlText === undefined ? { env, hostname } : { yamlText, file: FILE, env, hostname };
  return parseConfig(input);
}

/** Runs `fn`, asserts it throws a ConfigError, and returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError, nothing was thrown');
}

test('defaults without file or environment', () => {
  const c = parse(undefined, {}, 'web-1');
  assert.equal(c.prometheus.metricsPort, 9091);
  assert.equal(c.prometheus.bindAddress, '0.0.0.0');
  assert.equal(c.prometheus.multiprocDir, '');
  assert.equal(c.redis.enabled, false);
  assert.equal(c.redis.host, 'localhost');
  assert.equal(c.redis.port, 6379);
  assert.equal(c.redis.db, 0);
  assert.equal(c.redis.keyPrefix, 'gunicorn');
  assert.equal(c.redis.ttlSeconds, 300);
  assert.equal(c.cleanup.dbFiles, true);
  assert.equal(c.metrics.flushIntervalMs, 500);
  assert.deepEqual(c.metrics.durationBuckets, DEFAULT_DURATION_BUCKETS);
  assert.deepEqual(c.metrics.sizeBuckets, DEFAULT_SIZE_BUCKETS);
  assert.equal(c.metrics.maxEndpoints, 100);
  assert.deepEqual(c.metrics.httpMethods, ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
  assert.equal(c.metrics.maxRequestSeries, 1000);
  assert.equal(c.otel.serviceName, 'unknown_service:node');
  assert.equal(c.otel.instanceId, 'web-1');
  assert.deepEqual(c.otel.exporters, ['prometheus']);
  assert.equal(c.otel.exportIntervalMs, 60000);
  assert.equal(c.otel.exportTimeoutMs, 30000);
  assert.equal(c.otel.otlp.protocol, 'http/protobuf');
  assert.equal(c.otel.otlp.endpoint, 'http://localhost:4318/v1/metrics');
  assert.equal(c.otel.otlp.temporality, 'cumulative');
  assert.equal(c.serve.scope, 'all');
  assert.equal(c.sourceFile, undefined);
});

// The short example from the upstream README, verbatim in structure: note `ssl:` at the root.
const UPSTREAM_README_EXAMPLE = `
exporter:
  prometheus:
    metrics_port: 9091
    bind_address: "0.0.0.0"
    multiproc_dir: "/tmp/prometheus_multiproc"
  gunicorn:
    workers: 2
    timeout: 30
    keepalive: 2
  redis:
    enabled: false
    host: "localhost"
    port: 6379
    db: 0
    password: ""
    key_prefix: "gunicorn"
    ttl_seconds: 300
  ssl:
    enabled: false
    certfile: ""
    keyfile: ""
  cleanup:
    db_files: true
`;

test('the upstream README example is accepted as is', () => {
  const c = parse(UPSTREAM_README_EXAMPLE);
  assert.equal(c.prometheus.multiprocDir, '/tmp/prometheus_multiproc');
  assert.equal(c.gunicorn.workers, 2);
  assert.equal(c.prometheus.ssl.enabled, false);
  assert.equal(c.sourceFile, FILE);
});

// Every key upstream's code reads, in its layout, each set to a non-default value.
const UPSTREAM_LAYOUT_ALL_KEYS = `
exporter:
  prometheus:
    metrics_port: 9200
    bind_address: "127.0.0.1"
    multiproc_dir: "/var/run/metrics"
    ssl:
      enabled: true
      certfile: "/etc/tls/cert.pem"
      keyfile: "/etc/tls/key.pem"
      client_cafile: "/etc/tls/ca.pem"
      client_auth_required: true
  gunicorn:
    workers: 8
    timeout: 90
    keepalive: 5
  redis:
    enabled: true
    host: "redis.internal"
    port: 6380
    db: 3
    password: "hunter2"
    key_prefix: "app:metrics"
    ttl_seconds: 600
  cleanup:
    db_files: false
`;

test('every upstream key takes effect', () => {
  const c = parse(UPSTREAM_LAYOUT_ALL_KEYS);
  assert.deepEqual(c.prometheus, {
    metricsPort: 9200,
    bindAddress: '127.0.0.1',
    multiprocDir: '/var/run/metrics',
    ssl: { enabled: true, certfile: '/etc/tls/cert.pem', keyfile: '/etc/tls/key.pem', clientCafile: '/etc/tls/ca.pem', clientAuthRequired: true },
    // Keys this package adds, at their defaults: the upstream layout does not set them.
    metricsPath: '/metrics',
    webConfigFile: '',
  });
  const { workers, timeout, keepalive } = c.gunicorn;
  assert.deepEqual({ workers, timeout, keepalive }, { workers: 8, timeout: 90, keepalive: 5 });
  assert.equal(c.redis.enabled, true);
  assert.equal(c.redis.host, 'redis.internal');
  assert.equal(c.redis.port, 6380);
  assert.equal(c.redis.db, 3);
  assert.equal(c.redis.password, 'hunter2');
  assert.equal(c.redis.keyPrefix, 'app:metrics');
  assert.equal(c.redis.ttlSeconds, 600);
  assert.equal(c.cleanup.dbFiles, false);
});

test('root-level ssl (README layout) means prometheus.ssl; conflicting values are refused', () => {
  const c = parse('exporter:\n  ssl:\n    enabled: true\n    certfile: /c.pem\n    keyfile: /k.pem\n');
  assert.equal(c.prometheus.ssl.enabled, true);
  assert.equal(c.prometheus.ssl.certfile, '/c.pem');
  const agree = parse('exporter:\n  ssl: {certfile: /c.pem}\n  prometheus: {ssl: {certfile: /c.pem}}\n');
  assert.equal(agree.prometheus.ssl.certfile, '/c.pem');
  const err = configError(() => parse('exporter:\n  ssl: {certfile: /a.pem}\n  prometheus: {ssl: {certfile: /b.pem}}\n'));
  assert.equal(err.keyPath, 'exporter.prometheus.ssl.certfile');
  assert.match(err.message, /exporter\.ssl\.certfile/);
});

test('PyYAML-style yes/no and quoted numbers are read as upstream users wrote them', () => {
  const c = parse('exporter:\n  redis:\n    enabled: yes\n    port: "6390"\n  cleanup:\n    db_files: no\n');
  assert.equal(c.redis.enabled, true);
  assert.equal(c.redis.port, 6390);
  assert.equal(c.cleanup.dbFiles, false);
});

test('extended keys are read from YAML', () => {
  const c = parse(`
exporter:
  redis:
    url: "rediss://app:pw@redis.example:6390/2"
    username: app
    ttl_disabled: true
    tls: {enabled: true, ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem, reject_unauthorized: false}
    sentinels: [{host: s1, port: 26380}, "s2", "[::1]:26381"]
    sentinel_name: mymaster
  metrics:
    flush_interval_ms: 250
    duration_buckets: [0.01, 0.1, 1]
    size_buckets: [100, 1000]
    max_endpoints: 20
    http_methods: [GET, POST, PROPFIND]
    max_request_series: 300
  otel:
    service_name: shop
    instance_id: pod-7
    resource_attributes: {deployment.environment: prod, team: payments}
    exporters: [prometheus, otlp]
    export_interval_ms: 15000
    export_timeout_ms: 5000
    otlp:
      endpoint: https://collector:4318/custom/path
      protocol: http/json
      headers: {x-api-key: k1}
      timeout_ms: 2000
      compression: gzip
      temporality: delta
  serve:
    scope: service
`);
  assert.equal(c.redis.url, 'rediss://app:pw@redis.example:6390/2');
  assert.equal(c.redis.username, 'app');
  assert.equal(c.redis.ttlDisabled, true);
  assert.deepEqual(c.redis.tls, { enabled: true, caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem', rejectUnauthorized: false });
  assert.deepEqual(c.redis.sentinels, [
    { host: 's1', port: 26380 },
    { host: 's2', port: 26379 },
    { host: '::1', port: 26381 },
  ]);
  assert.equal(c.redis.sentinelName, 'mymaster');
  assert.deepEqual(c.metrics, {
    flushIntervalMs: 250,
    durationBuckets: [0.01, 0.1, 1],
    sizeBuckets: [100, 1000],
    maxEndpoints: 20,
    runtime: true,
    excludePaths: [],
    httpMethods: ['GET', 'POST', 'PROPFIND'],
    maxRequestSeries: 300,
  });
  assert.equal(c.otel.serviceName, 'shop');
  assert.equal(c.otel.instanceId, 'pod-7');
  assert.deepEqual(c.otel.resourceAttributes, { 'deployment.environment': 'prod', team: 'payments' });
  assert.deepEqual(c.otel.exporters, ['prometheus', 'otlp']);
  assert.equal(c.otel.exportIntervalMs, 15000);
  assert.equal(c.otel.exportTimeoutMs, 5000);
  // A YAML endpoint is a full URL: nothing is appended.
  assert.deepEqual(c.otel.otlp, {
    endpoint: 'https://collector:4318/custom/path',
    protocol: 'http/json',
    headers: { 'x-api-key': 'k1' },
    timeoutMs: 2000,
    compression: 'gzip',
    temporality: 'delta',
  });
  assert.equal(c.serve.scope, 'service');
});

test('precedence: defaults < YAML < environment', () => {
  const yaml = 'exporter:\n  prometheus:\n    metrics_port: 9200\n    bind_address: 127.0.0.1\n  redis:\n    port: 6380\n';
  const fromYaml = parse(yaml);
  assert.equal(fromYaml.prometheus.metricsPort, 9200);
  assert.equal(fromYaml.redis.host, 'localhost', 'unset in YAML keeps the default');
  const withEnv = parse(yaml, { PROMETHEUS_METRICS_PORT: '9300', REDIS_HOST: 'r.env' });
  assert.equal(withEnv.prometheus.metricsPort, 9300, 'env beats YAML');
  assert.equal(withEnv.prometheus.bindAddress, '127.0.0.1', 'YAML kept where env is silent');
  assert.equal(withEnv.redis.host, 'r.env', 'env beats default');
  assert.equal(withEnv.redis.port, 6380);
});

test('empty environment values count as unset', () => {
  const c = parse('exporter:\n  redis:\n    port: 6380\n', { REDIS_PORT: '', REDIS_ENABLED: '  ' });
  assert.equal(c.redis.port, 6380);
  assert.equal(c.redis.enabled, false);
});

test('upstream variable names win over their OTel aliases', () => {
  const onlyOtel = parse(undefined, { OTEL_EXPORTER_PROMETHEUS_PORT: '9464', OTEL_EXPORTER_PROMETHEUS_HOST: '::' });
  assert.equal(onlyOtel.prometheus.metricsPort, 9464);
  assert.equal(onlyOtel.prometheus.bindAddress, '::');
  const both = parse(undefined, {
    OTEL_EXPORTER_PROMETHEUS_PORT: '9464',
    PROMETHEUS_METRICS_PORT: '9091',
    OTEL_EXPORTER_PROMETHEUS_HOST: '::',
    PROMETHEUS_BIND_ADDRESS: '127.0.0.1',
  });
  assert.equal(both.prometheus.metricsPort, 9091);
  assert.equal(both.prometheus.bindAddress, '127.0.0.1');
});

test('upstream environment variables take effect', () => {
  const c = parse(undefined, {
    PROMETHEUS_MULTIPROC_DIR: '/m',
    PROMETHEUS_SSL_ENABLED: 'TRUE',
    PROMETHEUS_SSL_CERTFILE: '/c',
    PROMETHEUS_SSL_KEYFILE: '/k',
    PROMETHEUS_SSL_CLIENT_CAFILE: '/ca',
    PROMETHEUS_SSL_CLIENT_AUTH_REQUIRED: 'Yes',
    GUNICORN_WORKERS: '4',
    GUNICORN_TIMEOUT: '60',
    REDIS_ENABLED: '1',
    REDIS_HOST: 'rh',
    REDIS_PORT: '7000',
    REDIS_DB: '5',
    REDIS_PASSWORD: 'pw',
    REDIS_KEY_PREFIX: 'p:q',
    REDIS_TTL_SECONDS: '30',
    REDIS_TTL_DISABLED: 'no',
    REDIS_URL: 'redis://u:p@h:1/0',
    REDIS_USERNAME: 'u',
  });
  assert.equal(c.prometheus.multiprocDir, '/m');
  assert.deepEqual(c.prometheus.ssl, { enabled: true, certfile: '/c', keyfile: '/k', clientCafile: '/ca', clientAuthRequired: true });
  assert.equal(c.gunicorn.workers, 4);
  assert.equal(c.gunicorn.timeout, 60);
  assert.equal(c.redis.enabled, true);
  assert.equal(c.redis.host, 'rh');
  assert.equal(c.redis.port, 7000);
  assert.equal(c.redis.db, 5);
  assert.equal(c.redis.password, 'pw');
  assert.equal(c.redis.keyPrefix, 'p:q');
  assert.equal(c.redis.ttlSeconds, 30);
  assert.equal(c.redis.ttlDisabled, false);
  assert.equal(c.redis.url, 'redis://u:p@h:1/0');
  assert.equal(c.redis.username, 'u');
});

test('own variables for the new knobs', () => {
  const c = parse(undefined, {
    OTEL_CLUSTER_EXPORTER_FLUSH_INTERVAL_MS: '100',
    OTEL_CLUSTER_EXPORTER_MAX_ENDPOINTS: '7',
    OTEL_CLUSTER_EXPORTER_DURATION_BUCKETS: '0.1, 1,10',
    OTEL_CLUSTER_EXPORTER_SIZE_BUCKETS: '10,100',
    OTEL_CLUSTER_EXPORTER_SERVE_SCOPE: 'Instance',
    OTEL_CLUSTER_EXPORTER_HTTP_METHODS: 'GET, M-SEARCH,GET',
    OTEL_CLUSTER_EXPORTER_MAX_REQUEST_SERIES: '50',
  });
  assert.deepEqual(c.metrics, {
    flushIntervalMs: 100,
    durationBuckets: [0.1, 1, 10],
    sizeBuckets: [10, 100],
    maxEndpoints: 7,
    runtime: true,
    excludePaths: [],
    httpMethods: ['GET', 'M-SEARCH'],
    maxRequestSeries: 50,
  });
  assert.equal(c.serve.scope, 'instance');
});

test('a method list that is empty or not upper-case method names is refused, naming the key', () => {
  const lower = configError(() => parse(undefined, { OTEL_CLUSTER_EXPORTER_HTTP_METHODS: 'GET,post' }));
  assert.match(lower.message, /OTEL_CLUSTER_EXPORTER_HTTP_METHODS/);
  assert.match(lower.message, /"post" is not an upper-case HTTP method name/);
  const empty = configError(() => parse('exporter:\n  metrics:\n    http_methods: []\n', {}));
  assert.match(empty.message, /metrics\.http_methods/);
});

test('OTEL_RESOURCE_ATTRIBUTES: pairs, percent-decoding, service name and instance id', () => {
  const c = parse(undefined, {
    OTEL_RESOURCE_ATTRIBUTES: 'service.name=shop, service.instance.id=pod%2D1 ,deployment.environment=prod%20eu,k8s.ns=a%3Db%2Cc',
  });
  assert.equal(c.otel.serviceName, 'shop');
  assert.equal(c.otel.instanceId, 'pod-1');
  assert.deepEqual(c.otel.resourceAttributes, { 'deployment.environment': 'prod eu', 'k8s.ns': 'a=b,c' });
});

test('OTEL_SERVICE_NAME beats service.name in OTEL_RESOURCE_ATTRIBUTES; env attributes beat YAML service_name', () => {
  const c = parse(undefined, { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs', OTEL_SERVICE_NAME: 'explicit' });
  assert.equal(c.otel.serviceName, 'explicit');
  const overYaml = parse('exporter:\n  otel:\n    service_name: yaml-name\n', { OTEL_RESOURCE_ATTRIBUTES: 'service.name=env-attrs' });
  assert.equal(overYaml.otel.serviceName, 'env-attrs');
});

test('resource attributes merge key by key: environment over YAML', () => {
  const c = parse('exporter:\n  otel:\n    resource_attributes: {team: a, region: eu}\n', { OTEL_RESOURCE_ATTRIBUTES: 'team=b' });
  assert.deepEqual(c.otel.resourceAttributes, { team: 'b', region: 'eu' });
});

test('malformed OTEL_RESOURCE_ATTRIBUTES names the variable', () => {
  const missingEq = configError(() => parse(undefined, { OTEL_RESOURCE_ATTRIBUTES: 'a=1,novalue' }));
  assert.equal(missingEq.keyPath, 'OTEL_RESOURCE_ATTRIBUTES');
  const badEncoding = configError(() => parse(undefined, { OTEL_RESOURCE_ATTRIBUTES: 'a=%E0%A4%A' }));
  assert.equal(badEncoding.keyPath, 'OTEL_RESOURCE_ATTRIBUTES');
  assert.match(badEncoding.message, /percent-encod/);
});

test('OTLP endpoint: the generic variable gets /v1/metrics for http protocols, as the OTel spec says', () => {
  assert.equal(parse(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://col:4318' }).otel.otlp.endpoint, 'http://col:4318/v1/metrics');
  assert.equal(parse(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://col:4318/' }).otel.otlp.endpoint, 'http://col:4318/v1/metrics');
  assert.equal(parse(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://col/otlp' }).otel.otlp.endpoint, 'https://col/otlp/v1/metrics');
  const json = parse(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://col:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
  assert.equal(json.otel.otlp.endpoint, 'http://col:4318/v1/metrics');
  const grpc = parse(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://col:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
  assert.equal(grpc.otel.otlp.endpoint, 'http://col:4317', 'gRPC uses the base URL as is');
  assert.equal(grpc.otel.otlp.protocol, 'grpc');
});

test('OTLP endpoint: the signal-specific variable wins and is used as is', () => {
  const c = parse(undefined, {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318',
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://specific:4318/ingest',
  });
  assert.equal(c.otel.otlp.endpoint, 'http://specific:4318/ingest');
  assert.equal(parse(undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).otel.otlp.endpoint, 'http://localhost:4317');
  const emptyInYaml = parse('exporter:\n  otel:\n    otlp:\n      endpoint: ""\n      protocol: grpc\n');
  assert.equal(emptyInYaml.otel.otlp.endpoint, 'http://localhost:4317', 'an empty endpoint means the protocol default');
});

test('OTLP settings from the environment: signal-specific beats generic', () => {
  const c = parse(undefined, {
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_HEADERS: 'a=1',
    OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'authorization=Bearer%20tok,b=2',
    OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
    OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '2500',
    OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    OTEL_METRIC_EXPORT_INTERVAL: '20000',
    OTEL_METRIC_EXPORT_TIMEOUT: '4000',
    OTEL_METRICS_EXPORTER: 'otlp, prometheus,otlp',
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'LowMemory',
  });
  assert.equal(c.otel.otlp.protocol, 'http/json');
  assert.deepEqual(c.otel.otlp.headers, { authorization: 'Bearer tok', b: '2' });
  assert.equal(c.otel.otlp.timeoutMs, 2500);
  assert.equal(c.otel.otlp.compression, 'gzip');
  assert.equal(c.otel.exportIntervalMs, 20000);
  assert.equal(c.otel.exportTimeoutMs, 4000);
  assert.deepEqual(c.otel.exporters, ['otlp', 'prometheus']);
  assert.equal(c.otel.otlp.temporality, 'delta', 'lowmemory is read as delta');
});

test('a short export interval caps the default export timeout, an explicit longer timeout is refused', () => {
  assert.equal(parse(undefined, { OTEL_METRIC_EXPORT_INTERVAL: '5000' }).otel.exportTimeoutMs, 5000);
  const err = configError(() => parse(undefined, { OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '9000' }));
  assert.equal(err.keyPath, 'OTEL_METRIC_EXPORT_TIMEOUT');
  assert.match(err.message, /at most otel\.export_interval_ms/);
});

test('OTEL_METRICS_EXPORTER: none alone, unknown names refused', () => {
  assert.deepEqual(parse(undefined, { OTEL_METRICS_EXPORTER: 'none' }).otel.exporters, ['none']);
  const unknown = configError(() => parse(undefined, { OTEL_METRICS_EXPORTER: 'prometheus,zipkin' }));
  assert.equal(unknown.keyPath, 'OTEL_METRICS_EXPORTER');
  assert.match(unknown.message, /zipkin/);
  const mixed = configError(() => parse('exporter:\n  otel:\n    exporters: [none, otlp]\n'));
  assert.equal(mixed.keyPath, 'exporter.otel.exporters');
  assert.match(mixed.message, /cannot be combined/);
});

test('unknown key names the file and key, and suggests the close one', () => {
  const err = configError(() => parse('exporter:\n  redis:\n    key_prefx: app\n'));
  assert.equal(err.file, FILE);
  assert.equal(err.keyPath, 'exporter.redis.key_prefx');
  assert.match(err.message, /^exporter\.yml: exporter\.redis\.key_prefx: unknown key/);
  assert.match(err.message, /did you mean "exporter\.redis\.key_prefix"\?/);
  assert.match(err.message, /expected one of .*key_prefix/);
});

test('unknown key in the wrong section suggests where it belongs', () => {
  const err = configError(() => parse('exporter:\n  redis:\n    metrics_port: 1\n'));
  assert.match(err.message, /did you mean "exporter\.prometheus\.metrics_port"\?/);
  const noRoot = configError(() => parse('prometheus:\n  metrics_port: 1\n'));
  assert.equal(noRoot.keyPath, 'prometheus');
  assert.match(noRoot.message, /exporter\.prometheus/);
  const typoRoot = configError(() => parse('exportr:\n  redis: {}\n'));
  assert.match(typoRoot.message, /did you mean "exporter"\?/);
  const far = configError(() => parse('exporter:\n  totally_unrelated: 1\n'));
  assert.doesNotMatch(far.message, /did you mean/);
});

test('wrong type names file, key and expectation', () => {
  const err = configError(() => parse('exporter:\n  redis:\n    port: [6379]\n'));
  assert.equal(err.file, FILE);
  assert.equal(err.keyPath, 'exporter.redis.port');
  assert.equal(err.expected, 'an integer from 1 to 65535');
  assert.equal(err.message, 'exporter.yml: exporter.redis.port: expected an integer from 1 to 65535, got a list [6379]');
  const section = configError(() => parse('exporter:\n  redis: true\n'));
  assert.equal(section.keyPath, 'exporter.redis');
  assert.match(section.message, /expected a mapping of enabled, url, host/);
  const bool = configError(() => parse('exporter:\n  redis:\n    enabled: maybe\n'));
  assert.equal(bool.message, 'exporter.yml: exporter.redis.enabled: expected a boolean (true/false, 1/0, yes/no), got "maybe"');
});

test('impossible values: ranges', () => {
  const cases: [string, string][] = [
    ['exporter:\n  prometheus:\n    metrics_port: 70000\n', 'exporter.prometheus.metrics_port'],
    ['exporter:\n  redis:\n    port: 0\n', 'exporter.redis.port'],
    ['exporter:\n  redis:\n    ttl_seconds: -5\n', 'exporter.redis.ttl_seconds'],
    ['exporter:\n  metrics:\n    flush_interval_ms: 1500\n', 'exporter.metrics.flush_interval_ms'],
    ['exporter:\n  metrics:\n    flush_interval_ms: 10\n', 'exporter.metrics.flush_interval_ms'],
    ['exporter:\n  gunicorn:\n    workers: 2.5\n', 'exporter.gunicorn.workers'],
    ['exporter:\n  serve:\n    scope: galaxy\n', 'exporter.serve.scope'],
    ['exporter:\n  redis:\n    url: http://not-redis\n', 'exporter.redis.url'],
  ];
  for (const [yaml, keyPath] of cases) {
    const err = configError(() => parse(yaml));
    assert.equal(err.keyPath, keyPath, yaml);
    assert.equal(err.file, FILE);
    assert.match(err.message, /expected /);
  }
  const env = configError(() => parse(undefined, { REDIS_PORT: 'abc' }));
  assert.equal(env.message, 'REDIS_PORT: expected an integer from 1 to 65535, got "abc"');
  assert.equal(env.file, undefined);
});

test('bucket lists must be strictly increasing non-negative numbers', () => {
  const unsorted = configError(() => parse('exporter:\n  metrics:\n    duration_buckets: [0.1, 0.5, 0.5, 1]\n'));
  assert.equal(unsorted.keyPath, 'exporter.metrics.duration_buckets');
  assert.match(unsorted.message, /strictly increasing/);
  const empty = configError(() => parse('exporter:\n  metrics:\n    size_buckets: []\n'));
  assert.equal(empty.keyPath, 'exporter.metrics.size_buckets');
  const env = configError(() => parse(undefined, { OTEL_CLUSTER_EXPORTER_SIZE_BUCKETS: '10,abc,100' }));
  assert.equal(env.keyPath, 'OTEL_CLUSTER_EXPORTER_SIZE_BUCKETS');
  assert.match(env.message, /"abc"/);
  const negative = configError(() => parse(undefined, { OTEL_CLUSTER_EXPORTER_DURATION_BUCKETS: '-1,1' }));
  assert.equal(negative.keyPath, 'OTEL_CLUSTER_EXPORTER_DURATION_BUCKETS');
});

test('bad environment booleans name the variable; all accepted spellings work', () => {
  const err = configError(() => parse(undefined, { REDIS_TTL_DISABLED: 'sometimes' }));
  assert.equal(err.keyPath, 'REDIS_TTL_DISABLED');
  assert.equal(err.message, 'REDIS_TTL_DISABLED: expected a boolean (true/false, 1/0, yes/no), got "sometimes"');
  for (const [raw, value] of [['true', true], ['FALSE', false], ['1', true], ['0', false], ['YES', true], ['No', false]] as const) {
    assert.equal(parse(undefined, { REDIS_ENABLED: raw }).redis.enabled, value, raw);
  }
});

test('TLS half-configured is refused instead of silently ignored', () => {
  const noCert = configError(() => parse('exporter:\n  prometheus:\n    ssl:\n      enabled: true\n      keyfile: /k.pem\n'));
  assert.equal(noCert.keyPath, 'exporter.prometheus.ssl.certfile');
  assert.equal(noCert.file, FILE);
  const noKeyEnv = configError(() => parse(undefined, { PROMETHEUS_SSL_ENABLED: 'true', PROMETHEUS_SSL_CERTFILE: '/c' }));
  assert.equal(noKeyEnv.keyPath, 'exporter.prometheus.ssl.keyfile');
  const mtlsWithoutTls = configError(() => parse(undefined, { PROMETHEUS_SSL_CLIENT_AUTH_REQUIRED: 'true' }));
  assert.equal(mtlsWithoutTls.keyPath, 'PROMETHEUS_SSL_CLIENT_AUTH_REQUIRED');
  const redisCertOnly = configError(() => parse('exporter:\n  redis:\n    tls: {enabled: true, cert_file: /c.pem}\n'));
  assert.equal(redisCertOnly.keyPath, 'exporter.redis.tls.key_file');
  const redisFilesNoTls = configError(() => parse('exporter:\n  redis:\n    tls: {ca_file: /ca.pem}\n'));
  assert.equal(redisFilesNoTls.keyPath, 'exporter.redis.tls.enabled');
  assert.equal(parse('exporter:\n  redis:\n    url: rediss://h:6380\n    tls: {ca_file: /ca.pem}\n').redis.tls.caFile, '/ca.pem');
});

test('sentinel and cluster settings are checked together', () => {
  const noName = configError(() => parse(undefined, { OTEL_CLUSTER_EXPORTER_REDIS_SENTINELS: 's1:26379,s2' }));
  assert.equal(noName.keyPath, 'exporter.redis.sentinel_name');
  const both = configError(() =>
    parse('exporter:\n  redis:\n    sentinels: [s1]\n    sentinel_name: m\n    cluster_nodes: [{host: c1, port: 7000}]\n'),
  );
  assert.equal(both.keyPath, 'exporter.redis.cluster_nodes');
  const badNode = configError(() => parse('exporter:\n  redis:\n    cluster_nodes: [{host: c1, prot: 7000}]\n'));
  assert.equal(badNode.keyPath, 'exporter.redis.cluster_nodes');
});

test('a secret in a bad value is not echoed in the error', () => {
  const err = configError(() => parse('exporter:\n  redis:\n    url: "ftp://user:topsecret@h"\n'));
  assert.doesNotMatch(err.message, /topsecret/);
  const pw = configError(() => parse('exporter:\n  redis:\n    password: {nested: topsecret}\n'));
  assert.doesNotMatch(pw.message, /topsecret/);
  const headers = configError(() => parse(undefined, { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=%ZZtopsecret' }));
  assert.doesNotMatch(headers.message, /topsecret/);
});

test('YAML syntax errors name the file and line; empty documents mean defaults', () => {
  const err = configError(() => parse('exporter:\n  redis:\n    port: 1\n   host: x\n'));
  assert.equal(err.file, FILE);
  assert.equal(err.line, 4);
  assert.match(err.message, /^exporter\.yml: line 4, column \d+: expected valid YAML/);
  assert.equal(parse('').redis.port, 6379);
  assert.equal(parse('# only a comment\nexporter:\n').redis.port, 6379);
  const scalar = configError(() => parse('just a string'));
  assert.match(scalar.message, /root key "exporter"/);
});

test('the supervisor keys of `run` come from YAML under gunicorn and from the upstream variables, the env winning', () => {
  const yaml = 'exporter:\n  gunicorn:\n    max_requests: 1000\n    max_requests_jitter: 50\n    graceful_timeout: 10\n    max_memory_mb: 512\n    node_args: ["--max-old-space-size=256"]\n';
  const fromYaml = parseConfig({ yamlText: yaml, env: {}, hostname: 'h' }).gunicorn;
  assert.deepEqual(
    { ...fromYaml, workers: 0 },
    { workers: 0, timeout: 30, gracefulTimeout: 10, maxRequests: 1000, maxRequestsJitter: 50, maxMemoryMb: 512, keepalive: 2, nodeArgs: ['--max-old-space-size=256'] },
  );
  assert.equal(fromYaml.workers, availableParallelism(), 'workers default to the available parallelism');
  const env = { GUNICORN_MAX_REQUESTS: '7', GUNICORN_MAX_REQUESTS_JITTER: '3', GUNICORN_GRACEFUL_TIMEOUT: '5', GUNICORN_TIMEOUT: '0', GUNICORN_WORKERS: '3', OTEL_CLUSTER_EXPORTER_NODE_ARGS: '--inspect=0 --trace-warnings' };
  const fromEnv = parseConfig({ yamlText: yaml, env, hostname: 'h' }).gunicorn;
  assert.deepEqual([fromEnv.maxRequests, fromEnv.maxRequestsJitter, fromEnv.gracefulTimeout, fromEnv.timeout, fromEnv.workers], [7, 3, 5, 0, 3]);
  assert.deepEqual(fromEnv.nodeArgs, ['--inspect=0', '--trace-warnings']);
  const err = configError(() => parseConfig({ yamlText: 'exporter:\n  gunicorn:\n    node_args: [app.js]\n', env: {}, hostname: 'h' }));
  assert.equal(err.keyPath, 'exporter.gunicorn.node_args');
  assert.match(err.message, /"app\.js" is not a Node option/);
});

test('metrics.exclude_paths: YAML list or comma-separated environment, nothing excluded by default, a path without "/" refused by name', () => {
  assert.deepEqual(parse(undefined).metrics.excludePaths, []);
  assert.deepEqual(parse('exporter:\n  metrics:\n    exclude_paths: [/health, "/internal/**"]\n').metrics.excludePaths, ['/health', '/internal/**']);
  assert.deepEqual(parse(undefined, { OTEL_CLUSTER_EXPORTER_EXCLUDE_PATHS: '/healthz, /ready*' }).metrics.excludePaths, ['/healthz', '/ready*']);
  const error = configError(() => parse('exporter:\n  metrics:\n    exclude_paths: [health]\n'));
  assert.match(error.message, /metrics\.exclude_paths/);
  assert.match(error.message, /exporter\.yml/);
  assert.match(error.message, /start with "\/"/);
});
