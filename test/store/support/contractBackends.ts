/**
 * The two backends the contract suite runs against, behind one shape: open
 * any number of stores (writers, readers, retirers) on the same data, and
 * empty the data the way an operator or a crash would (Redis FLUSHALL or a
 * restart without persistence; the store directory wiped). Real Redis, real
 * directories, no mocks.
 */
import { mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisConfig } from '../../../src/config/Config';
import { Retirement, type RetirementOptions } from '../../../src/retirement/Retirement';
import type { SelfMetrics } from '../../../src/self/SelfMetrics';
import { FileBackend } from '../../../src/store/file/FileBackend';
import { RedisBackend } from '../../../src/store/redis/RedisBackend';
import { MAIN_REDIS, RedisServer, deletePrefix, redisConfig, uniquePrefix } from './redisFixtures';

/** What every store of one contract case shares. */
export interface BackendSpace {
  readonly kind: 'file' | 'redis';
  /** A new store on the same data (its own connection, its own reader memory). */
  open(options?: SpaceStoreOptions): Retirement;
  /** Lose everything (FLUSHALL, or every file of the directory). Destructive spaces only. */
  empty(): Promise<void>;
  /** Restart the backend empty (Redis without persistence); the file store has no server: same as {@link empty}. */
  restart(): Promise<void>;
  /** What a child process needs to open a store on this space (see pausedWorker.ts). */
  readonly childEnv: Record<string, string>;
  close(): Promise<void>;
}

/** Per-store options of a contract case. */
export interface SpaceStoreOptions extends Omit<RetirementOptions, 'self'> {
  readonly leaseMs?: number;
  readonly selfMetrics?: SelfMetrics;
  readonly self?: { readonly service: string; readonly instance: string };
}

export const SERVICE = 'shop';
export const INSTANCE = 'host-a';

/** A backend space by kind; `destructive` ones run on a private redis-server. */
export async function openSpace(kind: 'file' | 'redis', destructive: boolean): Promise<BackendSpace> {
  const stores: Retirement[] = [];
  const remember = (store: Retirement): Retirement => {
    stores.push(store);
    return store;
  };
  const closeStores = async (): Promise<void> => {
    await Promise.all(stores.splice(0).map((store) => store.close().catch(() => undefined)));
  };
  if (kind === 'file') {
    const directory = mkdtempSync(join(tmpdir(), 'ocx-contract-'));
    const wipe = async (): Promise<void> => {
      for (const name of readdirSync(directory)) unlinkSync(join(directory, name));
    };
    return {
      kind,
      open: (options = {}) =>
        remember(
          new Retirement(
            new FileBackend({
              directory,
              ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
              ...(options.selfMetrics ? { selfMetrics: options.selfMetrics } : {}),
            }),
            { ...options, self: options.self ?? { service: SERVICE, instance: INSTANCE } },
          ),
        ),
      empty: wipe,
      restart: wipe,
      childEnv: { OCX_BACKEND: 'file', OCX_DIR: directory },
      close: async () => {
        await closeStores();
        rmSync(directory, { recursive: true, force: true });
      },
    };
  }
  const server = destructive ? await RedisServer.start() : undefined;
  const config: RedisConfig = redisConfig({ keyPrefix: uniquePrefix('contract'), port: server?.port ?? MAIN_REDIS.port });
  const timings = { connectTimeoutMs: 1_000, commandTimeoutMs: 1_000, maxReconnectDelayMs: 100 };
  return {
    kind,
    open: (options = {}) => {
      const self = options.self ?? { service: SERVICE, instance: INSTANCE };
      return remember(new Retirement(RedisBackend.fromConfig(config, self, { timings, ...options }), { ...options, self }));
    },
    empty: async () => {
      if (server === undefined) throw new Error('empty() needs a destructive space');
      const client = server.client();
      await client.connect();
      await client.flushall();
      client.disconnect();
    },
    restart: async () => {
      if (server === undefined) throw new Error('restart() needs a destructive space');
      await server.restart();
    },
    childEnv: { OCX_BACKEND: 'redis', OCX_REDIS_CONFIG: JSON.stringify(config) },
    close: async () => {
      await closeStores();
      if (server !== undefined) await server.stop();
      else await deletePrefix(MAIN_REDIS.port, config.keyPrefix);
    },
  };
}
