/**
 * Programmatic entry: `start()` does what `--require otel-cluster-exporter/register`
 * does, for apps that prefer code; `shutdown()` flushes and stops.
 */
import type * as LoadConfigModule from './config/loadConfig';
import type * as UnknownVariablesModule from './config/unknownVariables';
import type { ExporterConfig } from './config/Config';
import { CONFIG_HANDOFF_ENV, readConfigHandoff } from './config/configHandoff';
import { Runtime, detectRole } from './runtime/Runtime';
import { withPm2Environment } from './runtime/pm2Environment';
import { installFrameworkHooks, uninstallFrameworkHooks } from './hooks/installFrameworkHooks';
import type { ProcessRole } from './runtime/Runtime';
import { info } from './self/Logger';

export type { ExporterConfig } from './config/Config';
export { ConfigError } from './config/ConfigError';
export type { ConfigIssue } from './config/ConfigError';
export type { ProcessRole } from './runtime/Runtime';
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
 * first call's result. Throws one `ConfigError` listing every problem when
 * the configuration is invalid (values, cross-key rules, TLS files, the store
 * directory), before anything is started.
 */
export function start(options: StartOptions = {}): StartedExporter {
  if (running && runningConfig) return { role: running.role, config: runningConfig };
  const env = withPm2Environment(options.env ?? process.env);
  const role = detectRole(env);
  // Taken out in every role, so the app and its children never see it (a worker reads it first).
  const handoff = role === 'cluster-worker' ? handedOver(options) : undefined;
  delete process.env[CONFIG_HANDOFF_ENV];
  // A cluster's workers use what their primary checked; children of an instrumented process do nothing.
  const serving = role === 'main' || role === 'orphan-worker';
  const config = handoff ?? loadConfigModule().loadConfig({ file: options.configFile, env, checkResources: serving });
  if (role === 'inactive') return { role, config };
  if (serving) {
    const { describeUnknownVariable, unknownVariables } = require('./config/unknownVariables') as typeof UnknownVariablesModule;
    // Only likely typos: other tools own most variables with these prefixes.
    for (const variable of unknownVariables(env)) if (variable.suggestion !== undefined) info(describeUnknownVariable(variable));
  }
  running = Runtime.start(config, env);
  runningConfig = config;
  // Last: every module of ours is loaded by now, so the SDK hook sees only the app's loads.
  installFrameworkHooks();
  return { role: running.role, config };
}

/**
 * The schema, its validation library and the YAML parser are about 1.5 MB of
 * heap: loaded only by processes that read the configuration themselves.
 */
function loadConfigModule(): typeof LoadConfigModule {
  return require('./config/loadConfig') as typeof LoadConfigModule;
}

/**
 * The configuration the primary checked for this worker's fork (start()
 * then removes the variable). Only for the configuration the fork's
 * environment names: `start()` with a file or environment of its own loads that.
 */
function handedOver(options: StartOptions): ExporterConfig | undefined {
  return options.configFile === undefined && options.env === undefined ? readConfigHandoff(process.env) : undefined;
}

/** Flush the last snapshot, stop the endpoint and timers, close the store. */
export async function shutdown(): Promise<void> {
  const current = running;
  running = undefined;
  runningConfig = undefined;
  uninstallFrameworkHooks();
  await current?.shutdown();
}
