/**
 * A cluster worker's configuration, handed over by its primary.
 *
 * The primary checks the configuration for each fork, with the environment
 * that fork gets, and passes the result in one environment variable; the
 * worker then never loads the schema, its validation library or the YAML
 * parser (about 1.5 MB of a worker's heap, see the README's worker memory
 * notes). This module is what a worker loads for it, so it imports nothing
 * heavier than `node:fs`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExporterConfig } from './Config';

/** Set by the primary on each fork: the configuration it checked for that worker. */
export const CONFIG_HANDOFF_ENV = 'OTEL_CLUSTER_EXPORTER_WORKER_CONFIG';

/** What the variable holds. */
interface Handoff {
  /** The package version that checked it: a worker started from other files on disk (a deploy, then HUP) loads its own. */
  readonly version: string;
  readonly config: ExporterConfig;
}

let ownVersion: string | undefined;

/**
 * This package's version, read once from its manifest (`src/cli/main.ts` reads
 * it the same way); `unknown` where there is none at that place (the tests'
 * compiled tree), on both sides alike.
 */
export function packageVersion(): string {
  if (ownVersion === undefined) {
    try {
      ownVersion = String((JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: unknown }).version);
    } catch {
      ownVersion = 'unknown';
    }
  }
  return ownVersion;
}

/** The variable's value for `config`. */
export function encodeConfigHandoff(config: ExporterConfig): string {
  const handoff: Handoff = { version: packageVersion(), config };
  return JSON.stringify(handoff);
}

/**
 * The configuration the primary handed over in `env`, or undefined when there
 * is none or it is not usable (another version, damaged): the worker then
 * loads the configuration itself, as it would without a primary.
 */
export function readConfigHandoff(env: NodeJS.ProcessEnv): ExporterConfig | undefined {
  const raw = env[CONFIG_HANDOFF_ENV];
  if (raw === undefined || raw === '') return undefined;
  try {
    const handoff = JSON.parse(raw) as Partial<Handoff> | null;
    if (handoff === null || typeof handoff !== 'object' || handoff.version !== packageVersion()) return undefined;
    const { config } = handoff;
    return typeof config === 'object' && config !== null && typeof config.metrics === 'object' ? config : undefined;
  } catch {
    return undefined;
  }
}
