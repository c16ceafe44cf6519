import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExporterConfig, ServeScope } from '../config/Config';
import type { SnapshotStore } from '../store/SnapshotStore';
import { Retirement } from '../retirement/Retirement';
import { FileBackend } from '../store/file/FileBackend';
import type * as RedisBackendModule from '../store/redis/RedisBackend';
import type { SelfMetrics } from '../self/SelfMetrics';

/** The variable the upstream exporter and this package use for the embedded store's directory. */
export const STORE_DIR_ENV = 'PROMETHEUS_MULTIPROC_DIR';

/**
 * Where processes that were given no directory meet: PM2 instances and a
 * `serve` sidecar started without configuration.
 */
export function sharedDefaultDirectory(): string {
  return join(tmpdir(), 'otel-cluster-exporter');
}

/** A directory chosen for the embedded store, and whether this process created it. */
export interface StoreDirectory {
  readonly path: string;
  readonly createdHere: boolean;
}

/**
 * Choose the embedded store's directory. A cluster primary with no
 * configured directory makes a private one; the fork wrapper hands it to its
 * workers (see ClusterSupervisor), so no other child of the app inherits it.
 */
export function resolveStoreDirectory(config: ExporterConfig, role: 'primary' | 'worker' | 'serve'): StoreDirectory {
  if (config.prometheus.multiprocDir) return { path: config.prometheus.multiprocDir, createdHere: false };
  if (role === 'primary') {
    const path = mkdtempSync(join(tmpdir(), 'otel-cluster-exporter-'));
    return { path, createdHere: true };
  }
  return { path: sharedDefaultDirectory(), createdHere: false };
}

/**
 * Open the configured store: Redis when enabled, the embedded file store
 * otherwise. `createDirectory` is false for cluster workers, whose directory
 * is their primary's to create and remove.
 */
export function openStore(config: ExporterConfig, directory: string, selfMetrics: SelfMetrics, scope: ServeScope, createDirectory = true): SnapshotStore {
  const self = { service: config.otel.serviceName, instance: config.otel.instanceId };
  const options = { selfMetrics, maxEndpoints: config.metrics.maxEndpoints, self };
  if (config.redis.enabled) {
    // ioredis costs a worker several MB of RSS: load it only when Redis is the store.
    const { RedisBackend } = require('../store/redis/RedisBackend') as typeof RedisBackendModule;
    return new Retirement(RedisBackend.fromConfig(config.redis, self, { selfMetrics, scope }), options);
  }
  return new Retirement(new FileBackend({ directory, selfMetrics, createDirectory }), options);
}
