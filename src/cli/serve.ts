import type { ExporterConfig } from '../config/Config';
import { selfMetricsSnapshot } from '../self/selfMetricsSnapshot';
import { SelfMetrics } from '../self/SelfMetrics';
import { info } from '../self/Logger';
import { Exposition } from '../runtime/Exposition';
import { buildResource } from '../runtime/Runtime';
import { openStore, resolveStoreDirectory } from '../runtime/storeFactory';
import type { Snapshot } from '../snapshot/Snapshot';

/** A running `serve` command. */
export interface ServeHandle {
  readonly exposition: Exposition;
  close(): Promise<void>;
}

/**
 * `otel-cluster-exporter serve`: serve the merged view of a store written by
 * other processes (a sidecar, a DaemonSet, next to PM2). It records nothing
 * itself except its own health.
 */
export function startServe(config: ExporterConfig): ServeHandle {
  const selfMetrics = new SelfMetrics();
  const directory = resolveStoreDirectory(config, 'serve');
  const store = openStore(config, directory.path, selfMetrics, config.serve.scope);
  const startTimeMs = Date.now();
  const ownSnapshot = (): Promise<Snapshot> =>
    Promise.resolve({
      identity: {
        service: config.otel.serviceName,
        instance: config.otel.instanceId,
        slot: -1,
        pid: process.pid,
        startTimeMs,
        role: 'primary',
      },
      writtenAtMs: Date.now(),
      metrics: selfMetricsSnapshot(selfMetrics, startTimeMs),
    });
  const exposition = Exposition.start({
    config,
    store,
    resource: buildResource(config),
    selfMetrics,
    // Several instances meet in Redis: keep their series apart. A directory belongs to one instance.
    labelInstance: config.redis.enabled,
    keepProcessAlive: true,
    localSnapshot: ownSnapshot,
    // No primary watches the writers of PM2 (or of a sidecar's other hosts): restarts come from the store.
    deriveRestarts: true,
  });
  info(`serve: reading the ${store.kind} store${config.redis.enabled ? '' : ` at ${directory.path}`} (scope ${config.serve.scope})`);
  return {
    exposition,
    close: async () => {
      await exposition.close();
      await store.close().catch(() => undefined);
    },
  };
}
