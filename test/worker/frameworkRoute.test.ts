import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { CATALOGUE } from '../../src/catalogue/MetricCatalogue';
import { setRequestRoute } from '../../src/worker/frameworkRoute';
import { expressRouteHook } from '../../src/hooks/expressHook';
import { createRequire } from 'node:module';
import { UNMATCHED_ENDPOINT } from '../../src/worker/RouteNormaliser';
import { close, collect, createStack, listen, request, sumOf } from './support';

const R = CATALOGUE.requests.name;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

test('Express routes appear as templates, including nested routers', async () => {
  const stack = createStack();
  const app = express();
  const api = express.Router();
  const v2 = express.Router();
  v2.get('/orders/:orderId', (_req, res) => void res.send('order'));
  api.use('/v2', v2);
  api.get('/users/:id', (_req, res) => void res.json({ ok: true }));
  api.get('/', (_req, res) => void res.send('api root'));
  app.use('/api', api);
  app.get('/health', (_req, res) => void res.send('up'));
  app.get('/fail/:code', (_req, _res, next) => next(new Error('handler failed')));
  const server = http.createServer(app);
  const port = await listen(server);
  cleanups.push(
    () => stack.instrumentation.disable(),
    () => close(server),
  );

  await request(port, { path: '/api/users/ab-cd' });
  await request(port, { path: '/api/users/other' });
  await request(port, { path: '/api/v2/orders/991?expand=1' });
  await request(port, { path: '/api' });
  await request(port, { path: '/health' });
  await request(port, { path: '/fail/x' });
  await request(port, { path: '/no/such/route' });
  const m = await collect(stack);
  assert.equal(sumOf(m, R, { endpoint: '/api/users/:id', status: '200' }), 2);
  assert.equal(sumOf(m, R, { endpoint: '/api/v2/orders/:orderId', status: '200' }), 1);
  assert.equal(sumOf(m, R, { endpoint: '/api', status: '200' }), 1);
  assert.equal(sumOf(m, R, { endpoint: '/health', status: '200' }), 1);
  assert.equal(sumOf(m, R, { endpoint: '/fail/:code', status: '500' }), 1);
  assert.equal(sumOf(m, CATALOGUE.failedRequests.name, { endpoint: '/fail/:code', error_type: 'http_5xx' }), 1);
  assert.equal(sumOf(m, R, { endpoint: UNMATCHED_ENDPOINT, status: '404' }), 1);
  assert.equal(sumOf(m, R), 7);
});

test('Fastify routes appear as templates; its 404s are unmatched', async () => {
  const stack = createStack();
  const app = Fastify();
  app.get('/items/:id', async () => ({ ok: true }));
  app.post('/items/:id/tags/:tag', async (req) => ({ got: req.body }));
  cleanups.push(
    () => stack.instrumentation.disable(),
    () => app.close(),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;

  await request(port, { path: '/items/1' });
  await request(port, { path: '/items/two' });
  const body = JSON.stringify({ a: 1 });
  await request(port, { method: 'POST', path: '/items/3/tags/blue', body, headers: { 'content-type': 'application/json' } });
  await request(port, { path: '/missing/route' });
  const m = await collect(stack);
  assert.equal(sumOf(m, R, { method: 'GET', endpoint: '/items/:id', status: '200' }), 2);
  assert.equal(sumOf(m, R, { method: 'POST', endpoint: '/items/:id/tags/:tag', status: '200' }), 1);
  assert.equal(sumOf(m, R, { endpoint: UNMATCHED_ENDPOINT, status: '404' }), 1);
});

test('any app can name its route with setRequestRoute', async () => {
  const stack = createStack();
  const server = http.createServer((req, res) => {
    setRequestRoute(req, '/reports/:year');
    res.end('report');
  });
  const port = await listen(server);
  cleanups.push(
    () => stack.instrumentation.disable(),
    () => close(server),
  );
  await request(port, { path: '/reports/2024-final' });
  assert.equal(sumOf(await collect(stack), R, { endpoint: '/reports/:year' }), 1);
});

test('in an Express app, a route named with setRequestRoute wins over the route Express matched', async () => {
  // The route hook as the preload installs it when Express's router loads: the dispatched route is then kept on the request's state.
  const expressRequire = createRequire(require.resolve('express'));
  expressRouteHook.onLoad?.(expressRequire('router/lib/route.js'), 'router/lib/route.js');
  const stack = createStack();
  const app = express();
  app.get('/reports/:id', (req, res) => {
    if (req.params.id === 'named') setRequestRoute(req, '/reports/:year/named');
    res.send('report');
  });
  const server = http.createServer(app);
  const port = await listen(server);
  cleanups.push(
    () => stack.instrumentation.disable(),
    () => close(server),
  );
  await request(port, { path: '/reports/named' });
  await request(port, { path: '/reports/7' });
  const m = await collect(stack);
  assert.equal(sumOf(m, R, { endpoint: '/reports/:year/named' }), 1);
  assert.equal(sumOf(m, R, { endpoint: '/reports/:id' }), 1);
});
