/**
 * Environment variables that look like this package's but are not read by
 * it: `PROMETHEUS_METRIC_PORT` for `PROMETHEUS_METRICS_PORT`. A warning, not an
 * error: other tools (the Redis image, prometheus_client) share these prefixes.
 */
import { CONFIG_FILE_ENV, CONFIG_KEYS, envName } from './schema';
import { closestMatch } from './suggest';
import { CONFIG_HANDOFF_ENV } from './configHandoff';

/** The prefixes of the variables this package reads. */
export const PACKAGE_PREFIXES: readonly string[] = ['PROMETHEUS_', 'REDIS_', 'GUNICORN_', 'OTEL_CLUSTER_EXPORTER_'];

/**
 * Variables the package sets for its own processes (OWNER_ENV in runtime/Runtime.ts, SLOT_ENV in primary/ClusterSupervisor.ts,
 * SUPERVISED_ENV in supervisor/protocol.ts, CONFIG_HANDOFF_ENV in config/configHandoff.ts).
 */
export const INTERNAL_VARIABLES: readonly string[] = ['OTEL_CLUSTER_EXPORTER_OWNER', 'OTEL_CLUSTER_EXPORTER_SLOT', 'OTEL_CLUSTER_EXPORTER_SUPERVISED', CONFIG_HANDOFF_ENV];

/** An unknown variable with one of this package's prefixes. */
export interface UnknownVariable {
  readonly name: string;
  /** The variable it is probably a typo of. */
  readonly suggestion?: string;
}

const KNOWN: readonly string[] = [CONFIG_FILE_ENV, ...CONFIG_KEYS.flatMap((key) => key.env.map(envName))];
const KNOWN_SET = new Set([...KNOWN, ...INTERNAL_VARIABLES]);

/** Every set variable with one of {@link PACKAGE_PREFIXES} that no key reads, with the closest known name. */
export function unknownVariables(env: Readonly<Record<string, string | undefined>>): UnknownVariable[] {
  return Object.keys(env)
    .filter((name) => env[name] !== undefined && PACKAGE_PREFIXES.some((prefix) => name.startsWith(prefix)) && !KNOWN_SET.has(name))
    .sort()
    .map((name) => {
      const suggestion = closestMatch(name, KNOWN);
      return suggestion !== undefined ? { name, suggestion } : { name };
    });
}

/** The warning line for an unknown variable. */
export function describeUnknownVariable(variable: UnknownVariable): string {
  const hint = variable.suggestion !== undefined ? `; did you mean ${variable.suggestion}?` : ' (ignored)';
  return `environment variable ${variable.name} is not read by otel-cluster-exporter${hint}`;
}
