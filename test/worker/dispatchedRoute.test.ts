/**
 * The route a router's hook hands over (noteDispatchedRoute, what the Express
 * hook calls from Route#dispatch), in a process where nothing has set a route
 * carrier: this file runs in its own process, so the carriers are not looked
 * for on a request with a dispatched route.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { CATALOGUE } from '../../src/catalogue/MetricCatalogue';
import { noteDispatchedRoute } from '../../src/worker/HttpInstrumentation';
import { close, collect, createStack, listen, request, sumOf } from './support';

const R = CATALOGUE.requests.name;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

test('a dispatched route and its mount path name the endpoint of a successful response; an error response keeps req.route', async () => {
  const stack = createStack();
  const dispatched = { path: '/members/:handle' };
  const server = http.createServer((req, res) => {
    noteDispatchedRoute(res, dispatched, '/api');
    if (req.url === '/api/users/missing') {
      // As Express's router does for a route whose parameter callback answers before dispatch.
      (req as { route?: unknown }).route = { path: '/users/:name' };
      (req as { baseUrl?: unknown }).baseUrl = '/api';
      res.statusCode = 404;
    }
    res.end('x');
  });
  const port = await listen(server);
  cleanups.push(
    () => stack.instrumentation.disable(),
    () => close(server),
  );
  await request(port, { path: '/api/members/alice' });
  await request(port, { path: '/api/members/bob?x=1' });
  await request(port, { path: '/api/users/missing' });
  const m = await collect(stack);
  assert.equal(sumOf(m, R, { endpoint: '/api/members/:handle', status: '200' }), 2);
  assert.equal(sumOf(m, R, { endpoint: '/api/users/:name', status: '404' }), 1);
  assert.equal(sumOf(m, R), 3);
});
