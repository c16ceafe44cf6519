'use strict';
/**
 * Redis store cost, on a private redis-server this script starts on a free
 * loopback port (no other traffic, so the server's counters are exact):
 *
 *   1. One worker flush of a ~2,000-series snapshot: Redis commands and bytes
 *      sent per flush (server INFO deltas) and write() latency (encode + one
 *      EVALSHA), side by side with a model of the upstream exporter's write
 *      pattern — eight sequential commands per series sample (the documented
 *      upstream fact; a model, not its code) — as a ratio.
 *      Then the same worker flushing with nothing new: a lease renewal.
 *   2. The exporter's merged read: 4 instances x 16 workers (plus one retired
 *      slot per instance): readAll() (scope all) and readAll() +
 *      a merge, medians, and the bare transfer for reference, when every
 *      snapshot changed between reads, when none did (the reader's decode
 *      cache) and for a new reader's first read. The merger is kept across
 *      reads, as a merged view keeps it (a new reader gets a new one). Goal:
 *      at most 250 ms.
 *      Workloads per worker: 2,000 OpenTelemetry points (1,000 counters +
 *      1,000 17-bucket histograms), 2,000 Prometheus series (100 label sets x
 *      20 exposition lines) and 9,500 Prometheus series (475 label sets).
 *
 * Run: npx tsc -p tsconfig.json && node bench/redis-flush.js
 * Env: BENCH_SERIES (2000), BENCH_FLUSHES (30), BENCH_READS (11), BENCH_BASELINE_FLUSHES (2).
 */
const { spawn } = require('node:child_process');
const path = require('node:path');
const { freePort, median } = require('./support');
const { performance } = require('node:perf_hooks');
const { Redis } = require('ioredis');

const dist = path.join(__dirname, '..', 'dist');
const { Retirement } = require(path.join(dist, 'retirement/Retirement'));
const { RedisBackend } = require(path.join(dist, 'store/redis/RedisBackend'));
/** The store the runtime opens for Redis. */
const openRedisStore = (cfg, self, options) => new Retirement(RedisBackend.fromConfig(cfg, self, options), { self });
const { encodeSnapshot } = require(path.join(dist, 'snapshot/SnapshotCodec'));
const { SnapshotMerger } = require(path.join(dist, 'merge/SnapshotMerger'));
const { CATALOGUE, DEFAULT_DURATION_BUCKETS, LABEL } = require(path.join(dist, 'catalogue/MetricCatalogue'));
const { resourceFromAttributes } = require('@opentelemetry/resources');

const SERIES = Number(process.env.BENCH_SERIES ?? 2000);
const FLUSHES = Number(process.env.BENCH_FLUSHES ?? 30);
const READS = Number(process.env.BENCH_READS ?? 11);
const BASELINE_FLUSHES = Number(process.env.BENCH_BASELINE_FLUSHES ?? 2);
const INSTANCES = 4;
const WORKERS = 16;
const BOUNDARIES = [...DEFAULT_DURATION_BUCKETS];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((ok, fail) => {
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) ok();
    });
    child.once('exit', () => fail(new Error(`redis-server exited: ${output}`)));
  });
  // Never leave the server behind, however this script ends.
  process.on('exit', () => child.kill('SIGKILL'));
  return { port, child };
}

/**
 * A worker snapshot: a request counter and a duration histogram over `sets`
 * label sets. SERIES/2 sets gives SERIES OpenTelemetry points (the heavy
 * reading of "2,000 series"); 100 sets gives 2,000 Prometheus series (each
 * histogram is 17 buckets + _sum + _count, plus the counter: 20 lines a set).
 */
function snapshot(identity, round, sets = SERIES / 2) {
  const counter = [];
  const histogram = [];
  for (let s = 0; s < sets; s++) {
    const attributes = { [LABEL.method]: METHODS[s % 4], [LABEL.endpoint]: `/api/v1/resource${s}/{id}`, [LABEL.status]: String(200 + (s % 5)) };
    const count = s * 3 + identity.slot + round;
    counter.push({ attributes, startTimeMs: identity.startTimeMs, value: count });
    const counts = BOUNDARIES.map(() => 0).concat(0);
    counts[s % counts.length] = count;
    histogram.push({ attributes, startTimeMs: identity.startTimeMs, value: { count, sum: count * 0.02, counts, min: 0.001, max: 2 } });
  }
  return {
    identity,
    writtenAtMs: Date.now(),
    metrics: [
      { name: CATALOGUE.requests.name, description: CATALOGUE.requests.help, unit: CATALOGUE.requests.unit, kind: 'counter', valueType: 'int', points: counter },
      {
        name: CATALOGUE.requestDuration.name,
        description: CATALOGUE.requestDuration.help,
        unit: CATALOGUE.requestDuration.unit,
        kind: 'histogram',
        valueType: 'double',
        boundaries: BOUNDARIES,
        points: histogram,
      },
    ],
  };
}

function identity(instance, slot, pid = 1000 + slot) {
  return { service: 'bench', instance, slot, pid, startTimeMs: 1_700_000_000_000 + pid, role: 'worker' };
}

async function serverStats(admin) {
  const text = await admin.info('stats');
  const read = (name) => Number(/\b/.test(name) && new RegExp(`${name}:(\\d+)`).exec(text)[1]);
  return { commands: read('total_commands_processed'), bytesIn: read('total_net_input_bytes'), bytesOut: read('total_net_output_bytes') };
}

const p95 = (values) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.95))];
const ms = (value) => `${value.toFixed(2)} ms`;
const kb = (value) => `${(value / 1024).toFixed(1)} KiB`;

function config(port, keyPrefix) {
  return {
    enabled: true,
    url: '',
    host: '127.0.0.1',
    port,
    db: 0,
    username: '',
    password: '',
    keyPrefix,
    ttlSeconds: 300,
    ttlDisabled: false,
    tls: { enabled: false, caFile: '', certFile: '', keyFile: '', rejectUnauthorized: true },
    sentinels: [],
    sentinelName: '',
    clusterNodes: [],
  };
}

/** The upstream pattern as documented: ~8 sequential round trips per series sample, no pipelining. */
async function baselineFlush(client, prefix, snap) {
  for (const metric of snap.metrics) {
    for (const point of metric.points) {
      const key = `${prefix}:${metric.name}:${snap.identity.pid}:${JSON.stringify(point.attributes)}`;
      const value = typeof point.value === 'number' ? point.value : point.value.count;
      await client.hset(`${key}:value`, 'value', value);
      await client.hset(`${key}:value`, 'timestamp', Date.now());
      await client.hset(`${key}:meta`, 'name', metric.name);
      await client.hset(`${key}:meta`, 'labels', JSON.stringify(point.attributes));
      await client.hset(`${key}:meta`, 'kind', metric.kind);
      await client.expire(`${key}:value`, 300);
      await client.expire(`${key}:meta`, 300);
      await client.sadd(`${prefix}:index`, key);
    }
  }
}

/** Commands the clients of this process send (a script's inner commands are not round trips). */
let sent = 0;
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function countedSendCommand(...args) {
  sent++;
  return sendCommand.apply(this, args);
};

/** The same round trips readAll makes when every snapshot changed, without decoding: what moving the bytes costs. */
async function rawRead(client, prefix) {
  const members = await client.zrange(`${prefix}:instances`, 0, -1);
  await Promise.all(
    members.map(async (member) => {
      const base = `${prefix}:{${member}}:`;
      const lives = await client.zrange(`${base}idx`, 0, -1);
      const transaction = client
        .multi()
        .zrange(`${base}idx`, 0, -1, 'WITHSCORES')
        .hgetall(`${base}rv`)
        .mget(...lives.map((life) => `${base}l:${life}`));
      for (const life of lives) transaction.hmget(base + life, 'c', 's');
      await transaction.hgetall(`${base}retired`).exec();
    }),
  );
}

async function main() {
  const redis = await startRedis();
  const admin = new Redis({ port: redis.port, host: '127.0.0.1' });
  try {
    // ------------------------------------------------------------ 1. one worker's flush
    const worker = openRedisStore(config(redis.port, 'bench:flush'), { service: 'bench', instance: 'host-0' });
    const id = identity('host-0', 0);
    await worker.write(snapshot(id, 0)); // registers the instance, loads the script
    const before = await serverStats(admin);
    const sentBefore = sent;
    const latencies = [];
    for (let round = 0; round < FLUSHES; round++) {
      const snap = snapshot(id, round + 2);
      const t = performance.now();
      await worker.write(snap);
      latencies.push(performance.now() - t);
    }
    const sentByUs = (sent - sentBefore) / FLUSHES;
    const afterStats = await serverStats(admin);
    const sample = snapshot(id, 1);
    const encodeTimes = [];
    for (let i = 0; i < 21; i++) {
      const t = performance.now();
      encodeSnapshot(sample);
      encodeTimes.push(performance.now() - t);
    }
    // The INFO call itself is one command; remove it from the count.
    const ours = {
      sent: sentByUs,
      commands: (afterStats.commands - before.commands - 1) / FLUSHES,
      bytes: (afterStats.bytesIn - before.bytesIn) / FLUSHES,
      median: median(latencies),
      p95: p95(latencies),
    };

    const baselineClient = new Redis({ port: redis.port, host: '127.0.0.1' });
    const baseBefore = await serverStats(admin);
    const baseSentBefore = sent;
    const baselineTimes = [];
    for (let round = 0; round < BASELINE_FLUSHES; round++) {
      const t = performance.now();
      await baselineFlush(baselineClient, 'bench:upstream', snapshot(id, round));
      baselineTimes.push(performance.now() - t);
    }
    const baseSent = (sent - baseSentBefore) / BASELINE_FLUSHES;
    const baseAfter = await serverStats(admin);
    baselineClient.disconnect();
    const baseline = {
      commands: baseSent,
      bytes: (baseAfter.bytesIn - baseBefore.bytesIn) / BASELINE_FLUSHES,
      median: median(baselineTimes),
    };

    console.log(`Redis store bench (private redis-server on ${redis.port}, Node ${process.version}; a flush is ${SERIES} OpenTelemetry points)`);
    console.log('');
    console.log('1. one worker flush                    this package      upstream model (8 cmds/series)   ratio');
    console.log(
      `   commands sent (round trips)       ${String(ours.sent.toFixed(2)).padStart(10)}      ${String(baseline.commands).padStart(12)}                  ${(baseline.commands / ours.sent).toFixed(0)}x fewer`,
    );
    console.log(
      `   commands executed by the server   ${String(ours.commands.toFixed(2)).padStart(10)}      ${String(baseline.commands).padStart(12)}                  (ours: 1 EVALSHA + the writes inside it)`,
    );
    console.log(
      `   bytes sent per flush              ${kb(ours.bytes).padStart(10)}      ${kb(baseline.bytes).padStart(12)}                  ${(baseline.bytes / ours.bytes).toFixed(1)}x fewer`,
    );
    console.log(
      `   flush latency (median)            ${ms(ours.median).padStart(10)}      ${ms(baseline.median).padStart(12)}                  ${(baseline.median / ours.median).toFixed(0)}x faster`,
    );
    console.log(`   flush latency p95 ${ms(ours.p95)}; of which encodeSnapshot median ${ms(median(encodeTimes))}`);
    // Idle flushes: the same series again, so the write is a lease renewal.
    const idle = snapshot(id, FLUSHES + 5);
    await worker.write(idle);
    const idleBefore = await serverStats(admin);
    const idleSentBefore = sent;
    const idleTimes = [];
    for (let round = 0; round < FLUSHES; round++) {
      const t = performance.now();
      await worker.write({ ...idle, writtenAtMs: Date.now() });
      idleTimes.push(performance.now() - t);
    }
    const idleAfter = await serverStats(admin);
    console.log(
      `   a flush with nothing new: ${((sent - idleSentBefore) / FLUSHES).toFixed(2)} round trips, ${kb((idleAfter.bytesIn - idleBefore.bytesIn) / FLUSHES)} sent, median ${ms(median(idleTimes))} (a lease renewal; no snapshot data)`,
    );
    await worker.close();
    const workloads = [
      [`${SERIES} OpenTelemetry points`, SERIES / 2],
      ['2,000 Prometheus series', 100],
      ['9,500 Prometheus series', 475],
    ];
    for (const [label, sets] of workloads) await mergedRead(admin, redis.port, label, sets);
  } finally {
    admin.disconnect();
    redis.child.kill('SIGKILL');
  }
}

/** 2. merged read, 4 x 16 workers of one workload. */
async function mergedRead(admin, port, label, sets) {
  const prefix = `bench:read:${sets}`;
  const writers = [];
  for (let h = 0; h < INSTANCES; h++) {
    const store = openRedisStore(config(port, prefix), { service: 'bench', instance: `host-${h}` });
    writers.push(store);
    await store.write(snapshot(identity(`host-${h}`, 0, 999), 0, sets)); // a worker that died...
    await store.retire(identity(`host-${h}`, 0, 999)); // ...folded into slot 0
    for (let w = 0; w < WORKERS; w++) await store.write(snapshot(identity(`host-${h}`, w), 5, sets));
  }
  const exporter = openRedisStore(config(port, prefix), { service: 'bench', instance: 'host-0' }, { scope: 'all' });
  // A merged view keeps one merger across its reads (src/exposition/MergedView.ts); a new reader starts with a new one.
  const exporterMerger = new SnapshotMerger();
  const resource = resourceFromAttributes({ 'service.name': 'bench' });
  const rawTimes = [];
  for (let i = 0; i < READS + 2; i++) {
    const t = performance.now();
    await rawRead(admin, prefix);
    if (i >= 2) rawTimes.push(performance.now() - t);
  }
  console.log('');
  console.log(`2. merged read, ${INSTANCES} instances x ${WORKERS} workers x ${label} (+1 retired slot each)`);
  console.log(`   the same round trips without decoding (transfer only) median ${ms(median(rawTimes))}`);
  // Between reads: every worker wrote a new snapshot (traffic everywhere), none did (idle), or a reader's first read.
  const modes = [
    [
      'every snapshot changed since the last read',
      async (round) => {
        for (let h = 0; h < INSTANCES; h++) await Promise.all(Array.from({ length: WORKERS }, (_, w) => writers[h].write(snapshot(identity(`host-${h}`, w), 6 + round, sets))));
      },
    ],
    ['nothing changed since the last read (decode cache)', async () => undefined],
    ['first read of a new reader (decodes everything)', async () => undefined, true],
  ];
  for (const [mode, between, cold] of modes) {
    const readTimes = [];
    const mergeTimes = [];
    let snapshots = 0;
    let bytesOut = 0;
    for (let i = 0; i < READS + 2; i++) {
      await between(i);
      const reader = cold ? openRedisStore(config(port, prefix), { service: 'bench', instance: 'host-0' }, { scope: 'all' }) : exporter;
      const s0 = await serverStats(admin);
      const t0 = performance.now();
      const stored = await reader.readAll();
      const t1 = performance.now();
      (cold ? new SnapshotMerger() : exporterMerger).merge(stored, { resource, labelInstance: true, nowMs: Date.now() });
      const t2 = performance.now();
      const s1 = await serverStats(admin);
      if (cold) await reader.close();
      if (i < 2) continue; // warm-up
      snapshots = stored.length;
      bytesOut = s1.bytesOut - s0.bytesOut;
      readTimes.push(t1 - t0);
      mergeTimes.push(t2 - t0);
    }
    console.log(`   ${mode}: ${snapshots} snapshots, ${kb(bytesOut)} from Redis`);
    console.log(
      `     readAll (scope all) median ${ms(median(readTimes))}, p95 ${ms(p95(readTimes))}; readAll + merge median ${ms(median(mergeTimes))}, p95 ${ms(p95(mergeTimes))}  (goal <= 250 ms: ${median(mergeTimes) <= 250 ? 'met' : 'NOT met'})`,
    );
  }

  await Promise.all([exporter.close(), ...writers.map((store) => store.close())]);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
