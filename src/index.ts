/**
 * Programmatic entry: `start()` does what `--require otel-cluster-exporter/register`
 * does, for apps that prefer code; `shutdown()` flushes and stops.
 */
import { loadConfig } from './config/loadConfig';
import type { ExporterConfig } from './config/Config';
import { Runtime, detectRole } from './runtime/Runtime';
import { withPm2Environment } from './runtime/pm2Environment';
import { installFrameworkHooks, uninstallFrameworkHooks } from './hooks/installFrameworkHooks';
import type { ProcessRole } from './runtime/Runtime';

export type { ExporterConfig } from './config/Config';
export { ConfigError } from './config/ConfigError';
export { CATALOGUE, LABEL, prometheusName } from './catalogue/MetricCatalogue';
export type { MetricDefinition, MetricKind } from './catalogue/MetricCatalogue';
export type { Snapshot, SnapshotIdentity, StoredSnapshot } from './snapshot/Snapshot';
export type { SnapshotStore } from './store/SnapshotStore';
/** Name the route of a request for routers this package cannot see (your own router). */
export { setRequestRoute } from './worker/frameworkRoute';
/** Add to your own MeterProvider / NodeSDK `metricReaders` to get its instruments into the merged view too. */
export { ClusterMetricReader } from './coexistence/ClusterMetricReader';

/** Options of {@link start}. */
export interface StartOptions {
  /** YAML configuration file; defaults to `OTEL_CLUSTER_EXPORTER_CONFIG`. */
  readonly configFile?: string;
  /** Environment to read settings from; defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** What {@link start} reports back. */
export interface StartedExporter {
  /** What this process does: serve (`main`), record as a worker, or nothing (`inactive`, a child of an instrumented process). */
  readonly role: ProcessRole;
  /** The effective configuration. */
  readonly config: ExporterConfig;
}

let running: Runtime | undefined;
let runningConfig: ExporterConfig | undefined;

/**
 * Start instrumenting this process. Idempotent: a second call returns the
 * first call's result. Throws a `ConfigError` when the configuration is
 * invalid, before anything is started.
 */
export function start(options: StartOptions = {}): StartedExporter {
  if (running && runningConfig) return { role: running.role, config: runningConfig };
  const env = withPm2Environment(options.env ?? process.env);
  const config = loadConfig({ file: options.configFile, env });
  const role = detectRole(env);
  if (role === 'inactive') return { role, config };
  running = Runtime.start(config, env);
  runningConfig = config;
  // Last: every module of ours is loaded by now, so the SDK hook sees only the app's loads.
  installFrameworkHooks();
  return { role: running.role, config };
}

/** Flush the last snapshot, stop the endpoint and timers, close the store. */
export async function shutdown(): Promise<void> {
  const current = running;
  running = undefined;
  runningConfig = undefined;
  uninstallFrameworkHooks();
  await current?.shutdown();
}
