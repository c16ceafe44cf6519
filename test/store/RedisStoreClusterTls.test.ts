import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Retirement } from '../../src/retirement/Retirement';
import {
  RedisServer,
  closeAll,
  counterTotal,
  freePort,
  openStore,
  redisConfig,
  startSentinel,
  waitFor,
  workerIdentity,
  workerSnapshot,
  type RunningSentinel,
} from './support/redisFixtures';
import { makeTlsFiles, redisSupportsTls, type TlsFiles } from '../support/tlsFiles';

const run = promisify(execFile);
const timings = { connectTimeoutMs: 1000, commandTimeoutMs: 500, maxReconnectDelayMs: 200 };
const opened: Retirement[] = [];
const servers: RedisServer[] = [];
const dirs: string[] = [];
const sentinels: RunningSentinel[] = [];

after(async () => {
  await closeAll(opened);
  await Promise.all(sentinels.map((sentinel) => sentinel.stop()));
  await Promise.all(servers.map((server) => server.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('Redis store on a 3-master Redis Cluster', () => {
  const nodes: RedisServer[] = [];

  before(async () => {
    for (let i = 0; i < 3; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'ocx-redis-cluster-'));
      dirs.push(dir);
      const node = await RedisServer.start(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'], { dir });
      servers.push(node);
      nodes.push(node);
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    await waitFor('cluster_state:ok on every node', async () => {
      const states = await Promise.all(nodes.map(async (node) => (await run('redis-cli', ['-p', String(node.port), 'cluster', 'info'])).stdout));
      return states.every((state) => state.includes('cluster_state:ok')) ? true : undefined;
    });
  });

  test('writes, reads every instance across masters, retires and fences', async () => {
    const cfg = redisConfig({ keyPrefix: 'ocx:cluster', clusterNodes: [{ host: '127.0.0.1', port: nodes[0]!.port }] });
    const instances = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const instance of instances) {
      const store = openStore(opened, cfg, { service: 'shop', instance }, { timings });
      await store.write(workerSnapshot(workerIdentity('shop', instance, 0), 10));
      await store.write(workerSnapshot(workerIdentity('shop', instance, 1), 5));
    }
    const exporter = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings, scope: 'all' });
    let stored = await exporter.readAll();
    assert.equal(stored.length, 12);
    assert.equal(counterTotal(stored), 90);

    // Keys of one instance share a slot; instances spread over more than one master.
    const owners = new Set<number>();
    for (const node of nodes) {
      const { stdout } = await run('redis-cli', ['-p', String(node.port), '--scan', '--pattern', 'ocx:cluster:{*']);
      if (stdout.trim() !== '') owners.add(node.port);
      const byInstance = new Map<string, Set<string>>();
      for (const key of stdout.trim().split('\n').filter(Boolean)) {
        const instance = key.slice(key.indexOf('{'), key.indexOf('}') + 1);
        const slot = (await run('redis-cli', ['-p', String(node.port), 'cluster', 'keyslot', key])).stdout.trim();
        byInstance.set(instance, (byInstance.get(instance) ?? new Set()).add(slot));
      }
      for (const [instance, slots] of byInstance) assert.equal(slots.size, 1, `${instance} spans slots ${[...slots].join(',')}`);
    }
    assert.ok(owners.size > 1, 'instances are spread over several masters');

    const paused = openStore(opened, cfg, { service: 'shop', instance: 'c' }, { timings });
    const identity = workerIdentity('shop', 'c', 5, 55);
    await paused.write(workerSnapshot(identity, 8, 1));
    await exporter.retire(identity);
    await exporter.retire(identity);
    await paused.write(workerSnapshot(identity, 9, 2));
    await paused.remove(workerIdentity('shop', 'd', 1)); // a MULTI on one slot
    stored = await exporter.readAll();
    assert.equal(counterTotal(stored), 90 + 9 - 5);
  });
});

describe('Redis store over TLS', () => {
  const support = redisSupportsTls();
  let files: TlsFiles;
  let port: number;

  before(async () => {
    if (!support.supported) return;
    files = makeTlsFiles();
    dirs.push(files.dir);
    port = await freePort();
    servers.push(
      await RedisServer.start(
        [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          files.serverCert,
          '--tls-key-file',
          files.serverKey,
          '--tls-ca-cert-file',
          files.ca,
          '--tls-auth-clients',
          'yes',
        ],
        { port },
      ),
    );
  });

  test('rediss:// with a CA and a client certificate (mutual TLS) reads and writes', { skip: support.supported ? false : support.reason }, async () => {
    const tls = { enabled: false, caFile: files.ca, certFile: files.clientCert, keyFile: files.clientKey, rejectUnauthorized: true };
    const store = openStore(opened, redisConfig({ url: `rediss://127.0.0.1:${port}`, tls, keyPrefix: 'ocx:tls' }), { service: 'shop', instance: 'a' }, { timings });
    await store.write(workerSnapshot(workerIdentity('shop', 'a', 0), 6));
    assert.equal(counterTotal(await store.readAll()), 6);

    const byHost = openStore(opened, redisConfig({ port, tls: { ...tls, enabled: true }, keyPrefix: 'ocx:tls' }), { service: 'shop', instance: 'a' }, { timings });
    assert.equal(counterTotal(await byHost.readAll()), 6, 'tls.enabled with host/port works the same');
  });

  test('a server certificate from another CA or no client certificate is refused, never crashes', { skip: support.supported ? false : support.reason }, async () => {
    const noClientCert = openStore(
      opened,
      redisConfig({ url: `rediss://127.0.0.1:${port}`, tls: { enabled: true, caFile: files.ca, certFile: '', keyFile: '', rejectUnauthorized: true }, keyPrefix: 'ocx:tls' }),
      { service: 'shop', instance: 'a' },
      { timings },
    );
    await assert.rejects(noClientCert.write(workerSnapshot(workerIdentity('shop', 'a', 0), 1)));
    const untrusted = openStore(opened, redisConfig({ url: `rediss://127.0.0.1:${port}`, keyPrefix: 'ocx:tls' }), { service: 'shop', instance: 'a' }, { timings });
    await assert.rejects(untrusted.readAll());
  });
});

describe('Redis store through Redis Sentinel', () => {
  test('finds the master by sentinel_name and reads and writes through it', async () => {
    const master = await RedisServer.start();
    servers.push(master);
    const dir = mkdtempSync(join(tmpdir(), 'ocx-redis-sentinel-'));
    dirs.push(dir);
    const sentinel = await startSentinel(master.port, dir);
    sentinels.push(sentinel);
    const cfg = redisConfig({ host: '127.0.0.1', port: 1, sentinels: [{ host: '127.0.0.1', port: sentinel.port }], sentinelName: 'mymaster', keyPrefix: 'ocx:sentinel' });
    const store = openStore(opened, cfg, { service: 'shop', instance: 'a' }, { timings });
    await store.write(workerSnapshot(workerIdentity('shop', 'a', 0), 4));
    assert.equal(counterTotal(await store.readAll()), 4);
    const direct = master.client();
    await direct.connect();
    assert.ok((await direct.keys('ocx:sentinel:*')).length > 0, 'the data is on the master the sentinel named');
    direct.disconnect();
  });
});
