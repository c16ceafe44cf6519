// An ES module app using the OpenTelemetry API for an instrument of its own.
import http from 'node:http';
import { metrics } from '@opentelemetry/api';

const orders = metrics.getMeter('shop').createCounter('shop_orders', { description: 'Orders placed' });
const server = http.createServer((req, res) => {
  if (req.url === '/order') orders.add(1, { kind: 'book' });
  res.end('esm\n');
});
server.listen(Number(process.env.APP_PORT || 0), '127.0.0.1', () => {
  if (process.send) process.send({ type: 'listening', pid: process.pid, port: server.address().port });
});
