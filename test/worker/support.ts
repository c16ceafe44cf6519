/**
 * Shared test plumbing for test/worker: a recording stack wired exactly as a
 * worker wires it, real servers on 127.0.0.1:0, raw-socket requests, and
 * readers of the producer's real collect() output.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Attributes } from '@opentelemetry/api';
import { DataPointType, type CollectionResult, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import { DEFAULT_DURATION_BUCKETS, DEFAULT_SIZE_BUCKETS } from '../../src/catalogue/MetricCatalogue';
import { HttpInstrumentation } from '../../src/worker/HttpInstrumentation';
import { HttpMetricProducer } from '../../src/worker/HttpMetricProducer';
import { RequestAccumulator } from '../../src/worker/RequestAccumulator';
import { RouteNormaliser } from '../../src/worker/RouteNormaliser';

export interface Stack {
  instrumentation: HttpInstrumentation;
  producer: HttpMetricProducer;
}

export function createStack(maxEndpoints = 100): Stack {
  const accumulator = new RequestAccumulator({ durationBuckets: DEFAULT_DURATION_BUCKETS, sizeBuckets: DEFAULT_SIZE_BUCKETS });
  const normaliser = new RouteNormaliser({ maxEndpoints });
  const instrumentation = new HttpInstrumentation({ accumulator, normaliser });
  instrumentation.enable();
  return { instrumentation, producer: new HttpMetricProducer(instrumentation) };
}

export async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function close(server: net.Server): Promise<void> {
  if ('closeAllConnections' in server) (server as http.Server).closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface Reply {
  status: number;
  body: Buffer;
  headers: http.IncomingHttpHeaders;
}

/** One request over a fresh connection (no agent keep-alive surprises). */
export function request(
  port: number,
  options: { method?: string; path?: string; body?: Buffer | string | undefined; chunks?: (Buffer | string)[]; headers?: http.OutgoingHttpHeaders | undefined } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.chunks !== undefined) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

/** Write raw bytes on a socket and resolve with everything the server sent until it closed. */
export function rawExchange(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(payload));
    const parts: Buffer[] = [];
    socket.on('data', (part: Buffer) => parts.push(part));
    socket.on('close', () => resolve(Buffer.concat(parts).toString('latin1')));
    socket.on('error', reject);
  });
}

export async function collect(stack: Stack): Promise<MetricData[]> {
  const result: CollectionResult = await stack.producer.collect();
  if (result.errors.length > 0) throw result.errors[0];
  return result.resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
}

function matches(attributes: Attributes, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([key, value]) => attributes[key] === value);
}

/** Sum of a counter/gauge's points whose attributes include `wanted` (0 when none). */
export function sumOf(metrics: MetricData[], name: string, wanted: Record<string, string> = {}): number {
  const metric = metrics.find((m) => m.descriptor.name === name);
  if (metric === undefined) return 0;
  if (metric.dataPointType !== DataPointType.SUM && metric.dataPointType !== DataPointType.GAUGE) throw new Error(`${name} is not a sum/gauge`);
  return metric.dataPoints.filter((p) => matches(p.attributes, wanted)).reduce((total, p) => total + p.value, 0);
}

/** The single histogram point of `name` whose attributes include `wanted`. */
export function histogramOf(metrics: MetricData[], name: string, wanted: Record<string, string>): Histogram {
  const metric = metrics.find((m) => m.descriptor.name === name);
  if (metric === undefined || metric.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name}: no histogram`);
  const points = metric.dataPoints.filter((p) => matches(p.attributes, wanted));
  if (points.length !== 1) throw new Error(`${name}: expected 1 point for ${JSON.stringify(wanted)}, got ${points.length}`);
  return (points[0] as { value: Histogram }).value;
}

/** Every attribute set of `name`. */
export function seriesOf(metrics: MetricData[], name: string): Attributes[] {
  const metric = metrics.find((m) => m.descriptor.name === name);
  return metric === undefined ? [] : (metric.dataPoints as { attributes: Attributes }[]).map((p) => p.attributes);
}

/** Poll until `check` holds (events such as socket close land a tick or two later). */
export async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
