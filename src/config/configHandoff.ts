/**
 * A cluster worker's configuration, handed over by its primary.
 *
 * The primary checks the configuration for each fork, with the environment
 * that fork gets, and passes the result in one environment variable; the
 * worker then never loads the schema, its validation library or the YAML
 * parser (about 1.5 MB of a worker's heap, see the README's worker memory
 * notes). This module is what a worker loads for it, so it imports nothing
 * heavier than `node:crypto` and `node:fs`.
 *
 * The worker takes the handoff only when the inputs it would load its
 * configuration from are exactly those the primary checked (see
 * {@link configInputsFingerprint}): a value copied into another environment,
 * a variable only the worker sees (`--env-file` in its execArgv), another
 * working directory, an edited file or another install of this package all
 * make it load the configuration itself, as it would without a primary.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ExporterConfig } from './Config';

/** Set by the primary on each fork: the configuration it checked for that worker, or '' for none. */
export const CONFIG_HANDOFF_ENV = 'OTEL_CLUSTER_EXPORTER_WORKER_CONFIG';

/** The configuration file's variable (the schema re-exports it: this module must not load the schema). */
export const CONFIG_FILE_ENV = 'OTEL_CLUSTER_EXPORTER_CONFIG';

/** Variables Node's cluster sets and removes around a fork, and the handoff itself. */
const NOT_INPUTS = new Set([CONFIG_HANDOFF_ENV, 'NODE_UNIQUE_ID', 'NODE_CHANNEL_FD', 'NODE_CHANNEL_SERIALIZATION_MODE']);

/** The sections every configuration has (the schema's, which this module must not load: a test keeps the two equal); a handoff without them is not one. */
export const CONFIG_SECTIONS = ['prometheus', 'gunicorn', 'redis', 'cleanup', 'metrics', 'otel', 'serve', 'logging'] as const;

/** What the variable holds. */
interface Handoff {
  readonly fingerprint: string;
  readonly config: ExporterConfig;
}

/**
 * A digest of everything a configuration is loaded from, as a process with
 * environment `env` and working directory `cwd` sees it: every variable (as
 * the string the child process gets), the directory (a relative file path is
 * resolved against it), the configuration file's bytes, and the bytes of this
 * package's schema on disk (another version or build of the package). Undefined
 * when a file cannot be read: that process must load, and report, itself.
 */
export function configInputsFingerprint(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const hash = createHash('sha256');
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value !== undefined && !NOT_INPUTS.has(name)) hash.update(`${name}=${String(value)}\0`);
  }
  hash.update(`cwd=${cwd}\0`);
  try {
    const file = env[CONFIG_FILE_ENV];
    if (file !== undefined && file !== '') hash.update(readFileSync(resolve(cwd, String(file))));
    hash.update(readFileSync(join(__dirname, 'schema.js')));
  } catch {
    return undefined;
  }
  return hash.digest('hex');
}

/** The variable's value for `config`, checked from inputs whose fingerprint is `fingerprint`. */
export function encodeConfigHandoff(config: ExporterConfig, fingerprint: string): string {
  const handoff: Handoff = { fingerprint, config };
  return JSON.stringify(handoff);
}

/**
 * The configuration the primary handed over in `env`, or undefined when there
 * is none or it is not for this process's inputs (see the module comment): the
 * worker then loads the configuration itself, as it would without a primary.
 */
export function readConfigHandoff(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): ExporterConfig | undefined {
  const raw = env[CONFIG_HANDOFF_ENV];
  if (raw === undefined || raw === '') return undefined;
  try {
    const handoff = JSON.parse(raw) as Partial<Handoff> | null;
    if (handoff === null || typeof handoff !== 'object' || typeof handoff.fingerprint !== 'string') return undefined;
    const { config } = handoff;
    if (typeof config !== 'object' || config === null) return undefined;
    if (!CONFIG_SECTIONS.every((section) => typeof (config as unknown as Record<string, unknown>)[section] === 'object')) return undefined;
    return handoff.fingerprint === configInputsFingerprint(env, cwd) ? config : undefined;
  } catch {
    return undefined;
  }
}
