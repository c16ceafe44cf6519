/**
 * The span lookup at `res.end` backs off in an app that runs no tracing (see
 * HttpInstrumentation's `noteTrace`), and must still find the traces of an app
 * that starts tracing later: real server, real AsyncLocalStorage context
 * manager, real sampled span contexts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CATALOGUE } from '../../src/catalogue/MetricCatalogue';
import type { HistogramValue } from '../../src/snapshot/Snapshot';
import { close, createStack, listen } from './support';

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function get(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
}

async function getMany(port: number, path: string, count: number): Promise<void> {
  for (let sent = 0; sent < count; sent += 8) await Promise.all(Array.from({ length: Math.min(8, count - sent) }, () => get(port, path)));
}

test('an app that starts tracing after thousands of untraced responses gets exemplars within a few hundred more', async () => {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  const stack = createStack();
  let tracing = false;
  let traced = 0;
  const server = http.createServer((_req, res) => {
    if (!tracing) return void res.end('untraced');
    traced++;
    const spanContext = { traceId: traced.toString(16).padStart(32, 'a'), spanId: traced.toString(16).padStart(16, 'b'), traceFlags: TraceFlags.SAMPLED };
    context.with(trace.setSpanContext(context.active(), spanContext), () => res.end('traced'));
  });
  const port = await listen(server);
  try {
    await getMany(port, '/before', 3_000);
    tracing = true;
    await getMany(port, '/after', 400);
    const duration = stack.producer.snapshotMetrics().find((metric) => metric.name === CATALOGUE.requestDuration.name);
    const pointOf = (endpoint: string): HistogramValue | undefined =>
      duration?.points.find((point) => point.attributes['endpoint'] === endpoint)?.value as HistogramValue | undefined;
    assert.equal(pointOf('/before')?.count, 3_000, 'every untraced request is counted');
    assert.equal(pointOf('/before')?.exemplars, undefined, 'no exemplar without a span');
    assert.equal(pointOf('/after')?.count, 400);
    const exemplars = pointOf('/after')?.exemplars ?? [];
    assert.ok(exemplars.length > 0, 'the later traces are found again');
    for (const exemplar of exemplars) assert.match(exemplar.traceId, /^a+[0-9a-f]+$/, 'an exemplar points at a trace the app opened');
  } finally {
    await close(server);
    stack.instrumentation.disable();
    agent.destroy();
    context.disable();
  }
});
