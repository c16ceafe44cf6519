import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';

const DIR = resolve(__dirname, '..', '..', '..', 'collector-config');
const KUBERNETES_FILE = 'kubernetes.yaml';

/**
 * Component types of the contrib distribution these files may use; a typo in
 * a type (`prometheusremotewite`) would stop the collector at startup.
 */
const KNOWN = {
  receivers: ['otlp', 'prometheus'],
  processors: ['memory_limiter', 'batch', 'transform', 'resource', 'deltatocumulative'],
  exporters: ['prometheus', 'prometheusremotewrite', 'otlp', 'otlphttp', 'debug'],
  extensions: ['health_check'],
} as const;

type Section = keyof typeof KNOWN;
type Obj = Record<string, unknown>;

function yamlFiles(): string[] {
  return readdirSync(DIR)
    .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
    .sort();
}

function read(name: string): string {
  return readFileSync(join(DIR, name), 'utf8');
}

function asObject(value: unknown, what: string): Obj {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${what} is a mapping`);
  return value as Obj;
}

function names(value: unknown, what: string): string[] {
  assert.ok(Array.isArray(value) && value.every((item) => typeof item === 'string'), `${what} is a list of names`);
  return value;
}

/** Every collector configuration in the folder, with where it came from. */
function collectorConfigs(): { source: string; config: Obj }[] {
  const configs: { source: string; config: Obj }[] = [];
  for (const file of yamlFiles()) {
    if (file === KUBERNETES_FILE) {
      for (const doc of kubernetesDocs()) {
        if (doc.kind !== 'ConfigMap') continue;
        for (const [key, text] of Object.entries(asObject(doc.data, `${file} ConfigMap data`))) {
          const parsed = yaml.load(String(text));
          if (parsed !== null && typeof parsed === 'object' && 'service' in parsed) {
            configs.push({ source: `${file} ConfigMap ${String(asObject(doc.metadata, 'metadata').name)}/${key}`, config: parsed });
          }
        }
      }
      continue;
    }
    configs.push({ source: file, config: asObject(yaml.load(read(file)), file) });
  }
  return configs;
}

function kubernetesDocs(): Obj[] {
  return yaml
    .loadAll(read(KUBERNETES_FILE))
    .filter((doc) => doc !== null)
    .map((doc) => asObject(doc, KUBERNETES_FILE));
}

test('every file in collector-config/ parses as YAML, and the README lists each one', () => {
  const files = yamlFiles();
  assert.ok(files.length >= 4, `expected the four configurations, found ${files.join(', ')}`);
  const readme = read('README.md');
  for (const file of files) {
    assert.doesNotThrow(() => yaml.loadAll(read(file)), `${file} parses`);
    assert.ok(readme.includes(`(${file})`), `README.md links ${file}`);
  }
});

test('the required data paths are all there', () => {
  const configs = collectorConfigs();
  const uses = (receiver: string, exporter: string): boolean =>
    configs.some(({ config }) =>
      Object.values(asObject(asObject(config.service, 'service').pipelines, 'pipelines')).some((pipeline) => {
        const p = asObject(pipeline, 'pipeline');
        return names(p.receivers, 'receivers').some((r) => r.split('/')[0] === receiver) && names(p.exporters, 'exporters').some((e) => e.split('/')[0] === exporter);
      }),
    );
  assert.ok(uses('otlp', 'prometheusremotewrite'), 'OTLP in -> Prometheus remote write');
  assert.ok(uses('otlp', 'prometheus'), "OTLP in -> the collector's Prometheus exporter");
  assert.ok(
    configs.some(({ config }) => 'prometheus' in asObject(config.receivers, 'receivers')),
    'a Prometheus receiver scraping /metrics',
  );
  assert.ok(
    configs.some(({ source }) => source.startsWith(KUBERNETES_FILE)),
    'the Kubernetes example embeds a collector configuration',
  );
});

test('every pipeline names only receivers, processors and exporters its file defines, and every defined one is used', () => {
  const configs = collectorConfigs();
  assert.ok(configs.length >= 4);
  for (const { source, config } of configs) {
    const service = asObject(config.service, `${source}: service`);
    const pipelines = asObject(service.pipelines, `${source}: service.pipelines`);
    assert.ok(Object.keys(pipelines).length > 0, `${source}: at least one pipeline`);
    const used: Record<Section, Set<string>> = { receivers: new Set(), processors: new Set(), exporters: new Set(), extensions: new Set() };
    for (const [pipelineName, value] of Object.entries(pipelines)) {
      assert.match(pipelineName, /^metrics(\/[\w-]+)?$/, `${source}: pipeline ${pipelineName} is a metrics pipeline`);
      const pipeline = asObject(value, `${source}: pipeline ${pipelineName}`);
      for (const section of ['receivers', 'processors', 'exporters'] as const) {
        if (section === 'processors' && pipeline.processors === undefined) continue;
        const listed = names(pipeline[section], `${source}: ${pipelineName}.${section}`);
        if (section !== 'processors') assert.ok(listed.length > 0, `${source}: ${pipelineName} has ${section}`);
        const defined = Object.keys(asObject(config[section] ?? {}, `${source}: ${section}`));
        for (const name of listed) {
          assert.ok(defined.includes(name), `${source}: pipeline ${pipelineName} names ${section.slice(0, -1)} "${name}", which is not defined (defined: ${defined.join(', ')})`);
          used[section].add(name);
        }
      }
    }
    for (const name of names(service.extensions ?? [], `${source}: service.extensions`)) {
      const defined = Object.keys(asObject(config.extensions ?? {}, `${source}: extensions`));
      assert.ok(defined.includes(name), `${source}: service enables extension "${name}", which is not defined`);
      used.extensions.add(name);
    }
    for (const section of Object.keys(KNOWN) as Section[]) {
      for (const name of Object.keys(asObject(config[section] ?? {}, `${source}: ${section}`))) {
        const type = name.split('/')[0] ?? '';
        assert.ok((KNOWN[section] as readonly string[]).includes(type), `${source}: ${section} "${name}" has a known component type`);
        assert.ok(used[section].has(name), `${source}: ${section} "${name}" is defined but never used`);
      }
    }
  }
});

test('kubernetes.yaml wires the app to the collector and Prometheus to the collector', () => {
  const docs = kubernetesDocs();
  const find = (kind: string, name: string): Obj => {
    const doc = docs.find((d) => d.kind === kind && asObject(d.metadata, 'metadata').name === name);
    assert.ok(doc, `${kind} ${name} exists`);
    return doc;
  };
  const containers = (deployment: Obj): Obj[] => asObject(asObject(asObject(deployment.spec, 'spec').template, 'template').spec, 'pod spec').containers as Obj[];

  const [app] = containers(find('Deployment', 'web'));
  assert.ok(app);
  assert.ok(names(app.command, 'command').includes('otel-cluster-exporter/register'), 'the app runs under the preload');
  const env = new Map((app.env as Obj[]).map((e) => [String(e.name), e.value]));
  assert.match(String(env.get('OTEL_METRICS_EXPORTER')), /\botlp\b/);
  const endpoint = new URL(String(env.get('OTEL_EXPORTER_OTLP_ENDPOINT')));

  const service = find('Service', 'otel-collector');
  const servicePorts = (asObject(service.spec, 'spec').ports as Obj[]).map((p) => Number(p.port));
  assert.ok(endpoint.hostname.startsWith('otel-collector.'), 'the app pushes to the collector Service');
  assert.ok(servicePorts.includes(Number(endpoint.port)), 'on a port the Service exposes');

  const collectorConfig = collectorConfigs().find(({ source }) => source.startsWith(KUBERNETES_FILE));
  assert.ok(collectorConfig);
  const otlpHttp = asObject(asObject(asObject(collectorConfig.config.receivers, 'receivers').otlp, 'otlp').protocols, 'protocols');
  assert.ok(String(asObject(otlpHttp.http, 'http').endpoint).endsWith(`:${endpoint.port}`), 'the collector listens where the app pushes');
  const promEndpoint = String(asObject(asObject(collectorConfig.config.exporters, 'exporters').prometheus, 'prometheus').endpoint);
  const promPort = Number(promEndpoint.split(':').at(-1));
  assert.ok(servicePorts.includes(promPort), "the collector's Prometheus endpoint is exposed");

  const [collector] = containers(find('Deployment', 'otel-collector'));
  assert.ok(collector);
  const podSpec = asObject(asObject(asObject(find('Deployment', 'otel-collector').spec, 'spec').template, 'template').spec, 'pod spec');
  const volumes = (podSpec.volumes as Obj[]).map((volume) => String(asObject(volume.configMap, 'configMap volume').name));
  assert.ok(volumes.includes('otel-collector-config'), 'the collector mounts its ConfigMap');
  assert.ok('collector.yaml' in asObject(find('ConfigMap', 'otel-collector-config').data, 'data'));
  assert.ok(
    names(collector.args, 'args').some((arg) => arg.startsWith('--config=/conf/collector.yaml')),
    'the collector reads the ConfigMap key',
  );

  const prometheus = yaml.load(String(asObject(find('ConfigMap', 'prometheus-config').data, 'data')['prometheus.yml'])) as Obj;
  const jobs = prometheus.scrape_configs as Obj[];
  const collectorJob = jobs.find((job) => JSON.stringify(job.static_configs ?? []).includes(`otel-collector.gunicorn-node.svc:${promPort}`));
  assert.ok(collectorJob, 'Prometheus scrapes the collector');
  assert.equal(collectorJob.honor_labels, true, 'keeping job/instance from service.name/service.instance.id');
});
