import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MetricsEndpoint } from '../../src/exposition/MetricsEndpoint';
import { PrometheusTextSerializer } from '../../src/exposition/PrometheusTextSerializer';

/**
 * End to end against the real consumer: a Prometheus server scrapes a
 * MetricsEndpoint (gzip negotiated, as Prometheus always asks for it) and its
 * query engine must see the series, labels, types and histogram we meant.
 */

const PROMETHEUS = '/usr/bin/prometheus';
const SKIP = existsSync(PROMETHEUS) ? false : `prometheus binary not found at ${PROMETHEUS} (CI installs it); skipping the real-scrape test`;

class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** A label value that exercises escaping all the way into Prometheus' storage. */
const ODD_ROUTE = '/items/"quoted"\\back\nline ünï';
const BOUNDARIES = [0.1, 0.5, 1];
const REQUESTS_PER_SCRAPE = 100;

let dir = '';
let prometheus: ChildProcess | undefined;
let prometheusLog = '';
let apiBase = '';
let endpoint: MetricsEndpoint | undefined;
let provider: MeterProvider | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Every scrape records the same traffic, so rates and the 0.95 quantile are known exactly. */
async function startApp(): Promise<number> {
  const reader = new ManualReader();
  provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'scrape-test' }), readers: [reader] });
  const meter = provider.getMeter('scrape-test');
  const requests = meter.createCounter('demo_requests', { description: 'Requests served.' });
  const duration = meter.createHistogram('demo_request_duration_seconds', {
    description: 'Request latency.',
    unit: 's',
    advice: { explicitBucketBoundaries: BOUNDARIES },
  });
  const serializer = new PrometheusTextSerializer();
  endpoint = new MetricsEndpoint({
    port: 0,
    host: '127.0.0.1',
    render: async () => {
      // 90 % of requests take 50 ms, 10 % take 300 ms.
      for (let i = 0; i < REQUESTS_PER_SCRAPE; i++) {
        const attributes = { route: ODD_ROUTE, method: 'GET' };
        requests.add(1, attributes);
        duration.record(i < REQUESTS_PER_SCRAPE * 0.9 ? 0.05 : 0.3, attributes);
      }
      return serializer.serialize((await reader.collect()).resourceMetrics);
    },
  });
  return (await endpoint.start()).port;
}

async function startPrometheus(targetPort: number): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'prometheus-scrape-'));
  const webPort = await freePort();
  apiBase = `http://127.0.0.1:${webPort}`;
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: exporter',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${targetPort}']`,
      '',
    ].join('\n'),
  );
  prometheus = spawn(PROMETHEUS, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${webPort}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  prometheus.stderr?.on('data', (chunk: Buffer) => (prometheusLog = (prometheusLog + chunk.toString()).slice(-4000)));
}

interface PromVector {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${apiBase}${path}`);
  const body = (await response.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? body.status}`);
  return body.data;
}

function query(expression: string): Promise<PromVector[]> {
  return api<{ result: PromVector[] }>(`/api/v1/query?query=${encodeURIComponent(expression)}`).then((data) => data.result);
}

/** Poll until `probe` returns a value, failing with Prometheus' own log if it never does. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (prometheus?.exitCode !== null) throw new Error(`prometheus exited (${prometheus?.exitCode}) while waiting for ${what}:\n${prometheusLog}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error; // Not listening yet, or no data yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what} (last error: ${String(lastError)})\nprometheus log:\n${prometheusLog}`);
}

before(async () => {
  if (SKIP) return;
  const targetPort = await startApp();
  await startPrometheus(targetPort);
});

after(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
    prometheus.kill('SIGTERM');
    const timer = setTimeout(() => prometheus!.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await endpoint?.close();
  await provider?.shutdown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a real Prometheus scrapes the endpoint and sees the counter, its labels and type', { skip: SKIP }, async () => {
  await eventually('the target to be up', async () => {
    const data = await api<{ activeTargets: { health: string; lastError: string }[] }>('/api/v1/targets');
    const target = data.activeTargets[0];
    if (target?.health === 'down') throw new Error(target.lastError);
    return target?.health === 'up' ? target : undefined;
  });

  const [series] = await eventually('demo_requests_total', async () => {
    const result = await query('demo_requests_total');
    return result.length > 0 ? result : undefined;
  });
  assert.equal(series!.metric.route, ODD_ROUTE);
  assert.equal(series!.metric.method, 'GET');
  const value = Number(series!.value[1]);
  assert.ok(value >= REQUESTS_PER_SCRAPE && value % REQUESTS_PER_SCRAPE === 0, `counter value ${value}`);

  const metadata = await api<Record<string, { type: string }[]>>('/api/v1/metadata');
  assert.equal(metadata.demo_requests_total?.[0]?.type, 'counter');
  assert.equal(metadata.demo_request_duration_seconds?.[0]?.type, 'histogram');
});

test('histogram_quantile over the scraped buckets gives the latency the app recorded', { skip: SKIP }, async () => {
  const [p95] = await eventually('a p95 from two scrapes', async () => {
    const result = await query('histogram_quantile(0.95, sum by (le) (rate(demo_request_duration_seconds_bucket[1m])))');
    return result.length > 0 && Number.isFinite(Number(result[0]!.value[1])) ? result : undefined;
  });
  // 90 % below 0.1 s, the rest in (0.1, 0.5]: linear interpolation puts p95 at 0.3 s.
  assert.ok(Math.abs(Number(p95!.value[1]) - 0.3) < 1e-9, `p95 = ${p95!.value[1]}`);

  const [rate] = await query('sum(rate(demo_requests_total[1m]))');
  assert.ok(Number(rate!.value[1]) > 0);
  const [mean] = await query('sum(rate(demo_request_duration_seconds_sum[1m])) / sum(rate(demo_request_duration_seconds_count[1m]))');
  assert.ok(Math.abs(Number(mean!.value[1]) - (0.9 * 0.05 + 0.1 * 0.3)) < 1e-9, `mean = ${mean!.value[1]}`);
});
