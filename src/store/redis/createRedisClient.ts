import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../../config/Config';
import { readTlsFileSync } from '../../config/readTlsFile';
import type { RedisClient } from './LuaScript';

/** Connection timings: short, so a missing Redis costs the caller milliseconds, not seconds. */
export interface RedisTimings {
  /** How long one connection attempt may take. */
  readonly connectTimeoutMs: number;
  /** How long one command may wait for its reply before it rejects. */
  readonly commandTimeoutMs: number;
  /** Longest pause between reconnection attempts. */
  readonly maxReconnectDelayMs: number;
}

/** The defaults used by {@link createRedisClient}. */
export const DEFAULT_REDIS_TIMINGS: RedisTimings = {
  connectTimeoutMs: 2_000,
  commandTimeoutMs: 1_000,
  maxReconnectDelayMs: 2_000,
};

/**
 * Open (lazily) the connection a {@link RedisConfig} describes: a cluster when
 * `clusterNodes` is set, Sentinel when `sentinels` is, otherwise `url` or
 * host/port/db. Never connects here and never throws because Redis is down;
 * throws only for bad input (an unreadable TLS file, a bad URL scheme).
 *
 * The client keeps no offline queue: while Redis is away commands reject at
 * once instead of piling up in memory, and it reconnects on its own.
 */
export function createRedisClient(config: RedisConfig, timings: RedisTimings = DEFAULT_REDIS_TIMINGS): RedisClient {
  const tls = tlsOptions(config);
  const retryStrategy = (attempt: number): number => Math.min(50 * 2 ** Math.min(attempt, 8), timings.maxReconnectDelayMs);
  const common: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timings.connectTimeoutMs,
    commandTimeout: timings.commandTimeoutMs,
    ...(config.username ? { username: config.username } : {}),
    ...(config.password ? { password: config.password } : {}),
    ...(tls ? { tls } : {}),
  };
  if (config.clusterNodes.length > 0) {
    const { lazyConnect: _lazy, enableOfflineQueue: _queue, ...redisOptions } = common;
    const options: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: retryStrategy,
      slotsRefreshTimeout: timings.connectTimeoutMs,
      redisOptions,
    };
    return new Cluster(
      config.clusterNodes.map((node) => ({ host: node.host, port: node.port })),
      options,
    );
  }
  if (config.sentinels.length > 0) {
    return new Redis({
      ...common,
      retryStrategy,
      sentinels: config.sentinels.map((node) => ({ host: node.host, port: node.port })),
      name: config.sentinelName,
      db: config.db,
      sentinelRetryStrategy: retryStrategy,
    });
  }
  if (config.url) {
    if (!/^rediss?:\/\//.test(config.url)) {
      throw new Error(`redis.url: expected a redis:// or rediss:// URL, got "${redact(config.url)}"`);
    }
    // rediss:// turned `tls` on above, with the configured CA and client certificate.
    return new Redis(config.url, { ...common, retryStrategy });
  }
  return new Redis({ ...common, retryStrategy, host: config.host, port: config.port, db: config.db });
}

/** TLS options with CA, certificate and key read now, at startup, so a bad path fails loudly once. */
function tlsOptions(config: RedisConfig): ConnectionOptions | undefined {
  const wanted = config.tls.enabled || config.url.startsWith('rediss://');
  if (!wanted) return undefined;
  const options: ConnectionOptions = { rejectUnauthorized: config.tls.rejectUnauthorized };
  if (config.tls.caFile) options.ca = readTlsFileSync('redis.tls.ca_file', config.tls.caFile);
  if (config.tls.certFile) options.cert = readTlsFileSync('redis.tls.cert_file', config.tls.certFile);
  if (config.tls.keyFile) options.key = readTlsFileSync('redis.tls.key_file', config.tls.keyFile);
  return options;
}

/** A URL with its password hidden, for error messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
