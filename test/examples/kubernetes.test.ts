/**
 * examples/kubernetes: every manifest parses, and the sidecar and DaemonSet
 * patterns are wired consistently: app pods run under the preload, `serve`
 * listens where the pod, the Service and the scrape annotations say, all
 * processes share one Redis, key prefix and service name, and every variable
 * is one the configuration schema knows with a value it accepts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import type { ExporterConfig } from '../../src/config/Config';
import { ROOT } from '../support/processes';
import { PACKAGE_ENV, configFor } from './exampleWiring';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface ContainerPort {
  name?: string;
  containerPort: number;
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: ContainerPort[];
  env?: EnvVar[];
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Container[] };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    template?: PodTemplate;
    ports?: { name?: string; port: number; targetPort?: number | string }[];
  };
}

/** A container with its environment resolved as the kubelet would (downward API values stand in). */
interface ResolvedContainer {
  readonly manifest: Manifest;
  readonly container: Container;
  readonly env: Record<string, string>;
  readonly config: ExporterConfig;
  readonly role: 'app' | 'serve' | 'other';
}

const DIR = join(ROOT, 'examples', 'kubernetes');
const DOWNWARD_VALUES: Record<string, string> = { 'metadata.name': 'shop-7d9f-abcde', 'spec.nodeName': 'node-1' };

function load(file: string): Manifest[] {
  return loadAll(readFileSync(join(DIR, file), 'utf8')).filter((doc) => doc !== null && doc !== undefined) as Manifest[];
}

/** Environment as a container sees it: `$(VAR)` expands only variables defined earlier in the list. */
function resolveEnv(container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (variable.valueFrom?.fieldRef) {
      const value = DOWNWARD_VALUES[variable.valueFrom.fieldRef.fieldPath];
      assert.ok(value !== undefined, `${container.name}: ${variable.name} uses an unexpected fieldRef`);
      env[variable.name] = value;
      continue;
    }
    assert.equal(typeof variable.value, 'string', `${container.name}: ${variable.name} needs a string value (quote numbers and booleans)`);
    env[variable.name] = (variable.value ?? '').replace(/\$\(([A-Z0-9_]+)\)/g, (_match, name: string) => {
      assert.ok(name in env, `${container.name}: ${variable.name} refers to $(${name}) before it is defined`);
      return env[name] ?? '';
    });
  }
  return env;
}

function containersOf(manifests: readonly Manifest[]): ResolvedContainer[] {
  return manifests.flatMap((manifest) =>
    (manifest.spec?.template?.spec.containers ?? []).map((container) => {
      const env = resolveEnv(container);
      const command = container.command ?? [];
      const role = command.includes('otel-cluster-exporter/register') ? 'app' : command[command.length - 1] === 'serve' ? 'serve' : 'other';
      return { manifest, container, env, config: configFor(env), role } as const;
    }),
  );
}

function servicesOf(manifests: readonly Manifest[]): Manifest[] {
  return manifests.filter((m) => m.kind === 'Service');
}

/** The pod template a Service's selector picks, and the container port its targetPort names. */
function serviceTarget(manifests: readonly Manifest[], service: Manifest): { workload: Manifest; port: number } {
  const selector = (service.spec?.selector ?? {}) as Record<string, string>;
  const workload = manifests.find((m) => {
    const labels = m.spec?.template?.metadata?.labels ?? {};
    return m.spec?.template !== undefined && Object.entries(selector).every(([k, v]) => labels[k] === v);
  });
  assert.ok(workload, `Service ${service.metadata.name} selects no pod template`);
  const servicePort = service.spec?.ports?.[0];
  assert.ok(servicePort, `Service ${service.metadata.name} has a port`);
  const ports = workload.spec?.template?.spec.containers.flatMap((c) => c.ports ?? []) ?? [];
  const target = servicePort.targetPort ?? servicePort.port;
  const port = ports.find((p) => (typeof target === 'number' ? p.containerPort === target : p.name === target));
  assert.ok(port, `Service ${service.metadata.name}: targetPort ${String(target)} is no container port of ${workload.metadata.name}`);
  return { workload, port: port.containerPort };
}

function checkCommonWiring(file: string): { manifests: Manifest[]; containers: ResolvedContainer[] } {
  const manifests = load(file);
  for (const m of manifests) {
    assert.ok(m.apiVersion && m.kind && m.metadata?.name, `${file}: every document has apiVersion, kind and metadata.name`);
  }
  const ids = manifests.map((m) => `${m.kind}/${m.metadata.name}`);
  assert.equal(new Set(ids).size, ids.length, `${file}: no two objects share kind and name`);
  for (const m of manifests.filter((x) => x.spec?.template)) {
    const labels = m.spec?.template?.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(m.spec?.selector?.matchLabels ?? {})) {
      assert.equal(labels[k], v, `${file}: ${m.kind}/${m.metadata.name} selector matches its pod labels`);
    }
    const ports = m.spec?.template?.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort)) ?? [];
    assert.equal(new Set(ports).size, ports.length, `${file}: ${m.metadata.name} containers share a network namespace: ports must differ`);
  }
  const containers = containersOf(manifests);
  const exporterSide = containers.filter((c) => c.role !== 'other');
  assert.ok(exporterSide.some((c) => c.role === 'app') && exporterSide.some((c) => c.role === 'serve'), `${file}: app pods and serve`);
  for (const c of exporterSide) {
    const declaredByDownwardApi = new Set((c.container.env ?? []).filter((v) => v.valueFrom).map((v) => v.name));
    for (const name of Object.keys(c.env)) {
      assert.ok(PACKAGE_ENV.has(name) || declaredByDownwardApi.has(name), `${file}: ${c.container.name}: ${name} is no configuration variable`);
    }
    assert.equal(c.config.redis.enabled, true, `${file}: ${c.container.name} uses the Redis store`);
    // One Redis, one prefix, one service name for everything in the file.
    const redis = servicesOf(manifests).find((s) => s.metadata.name === c.config.redis.host);
    assert.ok(redis, `${file}: REDIS_HOST ${c.config.redis.host} of ${c.container.name} is a Service in the file`);
    assert.equal(redis.spec?.ports?.[0]?.port, c.config.redis.port, `${file}: REDIS_PORT matches the Redis Service`);
    serviceTarget(manifests, redis);
    assert.equal(c.config.redis.keyPrefix, exporterSide[0]?.config.redis.keyPrefix, `${file}: one key prefix`);
    assert.equal(c.config.otel.serviceName, exporterSide[0]?.config.otel.serviceName, `${file}: one service name`);
  }
  for (const c of exporterSide.filter((x) => x.role === 'app')) {
    const command = c.container.command ?? [];
    assert.equal(command[command.indexOf('otel-cluster-exporter/register') - 1], '--require', `${file}: the preload is given with --require`);
    assert.equal(command[0], 'node');
    assert.ok(!c.config.otel.exporters.includes('prometheus'), `${file}: the app leaves serving to serve (no second endpoint)`);
    assert.notEqual(c.config.otel.instanceId, 'example-host', `${file}: each pod names its own instance`);
  }
  for (const c of exporterSide.filter((x) => x.role === 'serve')) {
    const metrics = (c.container.ports ?? []).find((p) => p.name === 'metrics');
    assert.equal(metrics?.containerPort, c.config.prometheus.metricsPort, `${file}: the metrics containerPort is the port serve listens on`);
    assert.equal(c.config.prometheus.bindAddress, '0.0.0.0', `${file}: serve must listen beyond loopback to be scraped`);
  }
  return { manifests, containers: exporterSide };
}

describe('examples/kubernetes/sidecar.yaml', () => {
  test('parses and is wired consistently: serve beside the app in every pod, scoped to that pod', () => {
    const { containers } = checkCommonWiring('sidecar.yaml');
    const serve = containers.find((c) => c.role === 'serve');
    const app = containers.find((c) => c.role === 'app');
    assert.ok(serve && app);
    assert.equal(serve.manifest, app.manifest, 'serve runs in the app pod');
    assert.equal(serve.manifest.kind, 'Deployment');
    assert.equal(serve.config.serve.scope, 'instance');
    assert.equal(serve.config.otel.instanceId, app.config.otel.instanceId, "serve reads its own pod's instance");
    const annotations = serve.manifest.spec?.template?.metadata?.annotations ?? {};
    assert.equal(annotations['prometheus.io/port'], String(serve.config.prometheus.metricsPort));
    assert.equal(annotations['prometheus.io/path'], '/metrics');
  });
});

describe('examples/kubernetes/daemonset.yaml', () => {
  test('parses and is wired consistently: serve as a DaemonSet over the whole service, scraped through its Service', () => {
    const { manifests, containers } = checkCommonWiring('daemonset.yaml');
    const serve = containers.find((c) => c.role === 'serve');
    const app = containers.find((c) => c.role === 'app');
    assert.ok(serve && app);
    assert.equal(serve.manifest.kind, 'DaemonSet');
    assert.notEqual(app.manifest, serve.manifest);
    assert.ok(['service', 'all'].includes(serve.config.serve.scope), `scope ${serve.config.serve.scope}`);
    assert.notEqual(serve.config.otel.instanceId, app.config.otel.instanceId, 'the exporter does not claim an app instance');
    const service = servicesOf(manifests).find((s) => serviceTarget(manifests, s).workload === serve.manifest);
    assert.ok(service, 'a Service selects the DaemonSet pods');
    assert.equal(serviceTarget(manifests, service).port, serve.config.prometheus.metricsPort);
    assert.equal(service.metadata.annotations?.['prometheus.io/port'], String(service.spec?.ports?.[0]?.port));
  });
});
