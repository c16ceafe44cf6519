/**
 * Real Redis for the RedisStore tests: configurations, redis-server processes
 * started on free loopback ports (killed by the tests' after hooks), snapshot
 * builders and a key-prefix cleaner. No mocks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RedisConfig } from '../../../src/config/Config';
import type { Snapshot, SnapshotIdentity, StoredSnapshot } from '../../../src/snapshot/Snapshot';
import { Retirement, type RetirementOptions } from '../../../src/retirement/Retirement';
import { RedisBackend, type RedisBackendOptions } from '../../../src/store/redis/RedisBackend';
import { freePort, sleep, waitFor } from '../../support/processes';

export { freePort, sleep, waitFor };

/** The shared Redis of the main suite. */
export const MAIN_REDIS = { host: '127.0.0.1', port: 6379 };

/** A key prefix unique to this run, containing ':' on purpose. */
export function uniquePrefix(label: string): string {
  return `ocx-test:${label}:${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** A complete Redis configuration with test-friendly defaults. */
export function redisConfig(overrides: Partial<RedisConfig> = {}): RedisConfig {
  return {
    enabled: true,
    url: '',
    host: MAIN_REDIS.host,
    port: MAIN_REDIS.port,
    db: 0,
    username: '',
    password: '',
    keyPrefix: uniquePrefix('default'),
    ttlSeconds: 300,
    ttlDisabled: false,
    tls: { enabled: false, caFile: '', certFile: '', keyFile: '', rejectUnauthorized: true },
    sentinels: [],
    sentinelName: '',
    clusterNodes: [],
    ...overrides,
  };
}

/** The store the runtime opens for Redis: the retirement protocol over the Redis backend. */
export function openRedisStore(config: RedisConfig, self: { service: string; instance: string }, options: RedisBackendOptions & Omit<RetirementOptions, 'self'> = {}): Retirement {
  return new Retirement(RedisBackend.fromConfig(config, self, options), { ...options, self });
}

/** Open a store and remember it for {@link closeAll}. */
export function openStore(
  opened: Retirement[],
  config: RedisConfig,
  self: { service: string; instance: string },
  options: RedisBackendOptions & Omit<RetirementOptions, 'self'> = {},
): Retirement {
  const store = openRedisStore(config, self, options);
  opened.push(store);
  return store;
}

/** Close every store opened by a test file. */
export async function closeAll(opened: Retirement[]): Promise<void> {
  await Promise.all(opened.splice(0).map((store) => store.close()));
}

/** Delete every key under `prefix` (SCAN, never KEYS). */
export async function deletePrefix(port: number, prefix: string, host = '127.0.0.1'): Promise<void> {
  const client = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** A worker identity. */
export function workerIdentity(service: string, instance: string, slot: number, pid = 1000 + slot, startTimeMs = 1_700_000_000_000): SnapshotIdentity {
  return { service, instance, slot, pid, startTimeMs, role: 'worker' };
}

export const REQUESTS = 'test.requests';
export const DURATION = 'test.duration';
export const MEMORY = 'test.memory';

/**
 * A cumulative worker snapshot: a counter of `requests` split over `series`
 * label sets (series i gets floor((requests + i) / series), so each series
 * only grows as `requests` grows and they sum to `requests`), a histogram with
 * `requests` observations and a gauge.
 */
export function workerSnapshot(identity: SnapshotIdentity, requests: number, writtenAtMs = Date.now(), series = 3): Snapshot {
  const counterPoints = Array.from({ length: series }, (_, i) => ({
    attributes: { method: 'GET', endpoint: `/route/${i}`, status: '200' },
    startTimeMs: identity.startTimeMs,
    value: Math.floor((requests + i) / series),
  }));
  return {
    identity,
    writtenAtMs,
    metrics: [
      { name: REQUESTS, description: 'requests', unit: '1', kind: 'counter', valueType: 'int', points: counterPoints },
      {
        name: DURATION,
        description: 'duration',
        unit: 's',
        kind: 'histogram',
        valueType: 'double',
        boundaries: [0.1, 1],
        points: [{ attributes: {}, startTimeMs: identity.startTimeMs, value: { count: requests, sum: requests * 0.05, counts: [requests, 0, 0], min: 0.05, max: 0.05 } }],
      },
      { name: MEMORY, description: 'rss', unit: 'By', kind: 'gauge', valueType: 'int', points: [{ attributes: {}, startTimeMs: identity.startTimeMs, value: 4096 }] },
    ],
  };
}

/** Sum of one counter over every stored snapshot (live, dead and retired) matching `filter`. */
export function counterTotal(stored: readonly StoredSnapshot[], name = REQUESTS, filter: (s: Snapshot) => boolean = () => true): number {
  let total = 0;
  for (const { snapshot } of stored) {
    if (!filter(snapshot)) continue;
    for (const metric of snapshot.metrics) {
      if (metric.name !== name) continue;
      for (const point of metric.points) if (typeof point.value === 'number') total += point.value;
    }
  }
  return total;
}

/** Sum of one histogram's counts over every stored snapshot. */
export function histogramCount(stored: readonly StoredSnapshot[], name = DURATION): number {
  let total = 0;
  for (const { snapshot } of stored) {
    for (const metric of snapshot.metrics) {
      if (metric.name !== name) continue;
      for (const point of metric.points) if (typeof point.value !== 'number') total += point.value.count;
    }
  }
  return total;
}

/** A redis-server process on a free loopback port, with no persistence. */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
    readonly dir: string,
  ) {}

  /** Start a server (optionally on a given port) and wait until it answers PING. */
  static async start(extraArgs: readonly string[] = [], options: { port?: number; dir?: string; tlsPing?: boolean } = {}): Promise<RedisServer> {
    const port = options.port ?? (await freePort());
    const server = new RedisServer(port, extraArgs, options.dir ?? '/tmp');
    await server.spawn(options.tlsPing === true);
    return server;
  }

  /** The server's pid, for signals (SIGSTOP simulates a hung Redis). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Start again on the same port (after {@link stop}): an empty Redis, as after a restart without persistence. */
  async restart(): Promise<void> {
    await this.stop();
    await this.spawn(false);
  }

  /** Kill the server (SIGKILL, as a crash) and wait for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }

  /** Send a signal to the server process. */
  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** A plain client to the server (caller disconnects). */
  client(options: { password?: string; username?: string } = {}): Redis {
    return new Redis({ host: '127.0.0.1', port: this.port, maxRetriesPerRequest: 0, lazyConnect: true, ...options });
  }

  private async spawn(skipPing: boolean): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', this.dir, ...this.extraArgs];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitFor(
      `redis-server on ${this.port} to accept connections`,
      () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited: ${output.slice(-500)}`);
        return output.includes('Ready to accept connections') || (skipPing && output.includes('Server initialized')) ? true : undefined;
      },
      10_000,
    );
  }
}

/** A Redis Sentinel (redis-server --sentinel) watching one master as "mymaster". */
export interface RunningSentinel {
  readonly port: number;
  stop(): Promise<void>;
}

/** Start a Sentinel on a free port with its config file in `dir` (Sentinel rewrites it). */
export async function startSentinel(masterPort: number, dir: string): Promise<RunningSentinel> {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor mymaster 127.0.0.1 ${masterPort} 1\n`);
  const child = spawn('redis-server', [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await waitFor(
    `sentinel on ${port}`,
    () => {
      if (child.exitCode !== null) throw new Error(`sentinel exited: ${output.slice(-500)}`);
      return output.includes('+monitor master mymaster') ? true : undefined;
    },
    10_000,
  );
  return {
    port,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
