import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MetricsEndpoint } from '../../src/exposition/MetricsEndpoint';
import { PrometheusTextSerializer } from '../../src/exposition/PrometheusTextSerializer';
import { PrometheusServer, prometheusUnavailable } from '../support/PrometheusServer';

/**
 * End to end against the real consumer: a Prometheus server scrapes a
 * MetricsEndpoint (gzip negotiated, as Prometheus always asks for it) and its
 * query engine must see the series, labels, types and histogram we meant.
 */

const SKIP = prometheusUnavailable();

class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** A label value that exercises escaping all the way into Prometheus' storage. */
const ODD_ROUTE = '/items/"quoted"\\back\nline ünï';
const BOUNDARIES = [0.1, 0.5, 1];
const REQUESTS_PER_SCRAPE = 100;

let prometheus: PrometheusServer | undefined;
let endpoint: MetricsEndpoint | undefined;
let provider: MeterProvider | undefined;

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

before(async () => {
  if (SKIP) return;
  const targetPort = await startApp();
  prometheus = await PrometheusServer.start([`127.0.0.1:${targetPort}`]);
});

after(async () => {
  await prometheus?.stop();
  await endpoint?.close();
  await provider?.shutdown();
});

test('a real Prometheus scrapes the endpoint and sees the counter, its labels and type', { skip: SKIP }, async () => {
  await prometheus!.until('the target to be up', async () => {
    const data = await prometheus!.api<{ activeTargets: { health: string; lastError: string }[] }>('/api/v1/targets');
    const target = data.activeTargets[0];
    if (target?.health === 'down') throw new Error(target.lastError);
    return target?.health === 'up' ? target : undefined;
  });

  const [series] = await prometheus!.until('demo_requests_total', async () => {
    const result = await prometheus!.query('demo_requests_total');
    return result.length > 0 ? result : undefined;
  });
  assert.equal(series!.metric.route, ODD_ROUTE);
  assert.equal(series!.metric.method, 'GET');
  const value = Number(series!.value[1]);
  assert.ok(value >= REQUESTS_PER_SCRAPE && value % REQUESTS_PER_SCRAPE === 0, `counter value ${value}`);

  const metadata = await prometheus!.api<Record<string, { type: string }[]>>('/api/v1/metadata');
  assert.equal(metadata.demo_requests_total?.[0]?.type, 'counter');
  assert.equal(metadata.demo_request_duration_seconds?.[0]?.type, 'histogram');
});

test('histogram_quantile over the scraped buckets gives the latency the app recorded', { skip: SKIP }, async () => {
  const [p95] = await prometheus!.until('a p95 from two scrapes', async () => {
    const result = await prometheus!.query('histogram_quantile(0.95, sum by (le) (rate(demo_request_duration_seconds_bucket[1m])))');
    return result.length > 0 && Number.isFinite(Number(result[0]!.value[1])) ? result : undefined;
  });
  // 90 % below 0.1 s, the rest in (0.1, 0.5]: linear interpolation puts p95 at 0.3 s.
  assert.ok(Math.abs(Number(p95!.value[1]) - 0.3) < 1e-9, `p95 = ${p95!.value[1]}`);

  const [rate] = await prometheus!.query('sum(rate(demo_requests_total[1m]))');
  assert.ok(Number(rate!.value[1]) > 0);
  const [mean] = await prometheus!.query('sum(rate(demo_request_duration_seconds_sum[1m])) / sum(rate(demo_request_duration_seconds_count[1m]))');
  assert.ok(Math.abs(Number(mean!.value[1]) - (0.9 * 0.05 + 0.1 * 0.3)) < 1e-9, `mean = ${mean!.value[1]}`);
});
