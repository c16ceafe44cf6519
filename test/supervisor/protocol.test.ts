import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRetireRequest, readWorkerSettings, SUPERVISED_ENV } from '../../src/supervisor/protocol';

test('a supervised worker reads its settings from one variable; anything unreadable means not supervised', () => {
  const settings = { heartbeatFile: '/tmp/hb', heartbeatMs: 250, maxRequests: 1000, maxMemoryBytes: 0, keepAliveMs: 2000 };
  assert.deepEqual(readWorkerSettings({ [SUPERVISED_ENV]: JSON.stringify(settings) }), settings);
  assert.equal(readWorkerSettings({}), undefined);
  assert.equal(readWorkerSettings({ [SUPERVISED_ENV]: '{not json' }), undefined);
  assert.deepEqual(readWorkerSettings({ [SUPERVISED_ENV]: JSON.stringify({ maxRequests: -5, keepAliveMs: 'x' }) }), { maxRequests: 0, maxMemoryBytes: 0, keepAliveMs: 0 });
});

test("only our own retire requests are taken from a worker's messages", () => {
  assert.ok(isRetireRequest({ 'otel-cluster-exporter': 'retire', reason: 'max_requests' }));
  assert.ok(isRetireRequest({ 'otel-cluster-exporter': 'retire', reason: 'memory' }));
  assert.ok(!isRetireRequest({ 'otel-cluster-exporter': 'retire', reason: 'hup' }), 'a worker cannot ask for a reason it has no say in');
  assert.ok(!isRetireRequest('retire'));
  assert.ok(!isRetireRequest(null));
});
