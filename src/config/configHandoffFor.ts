/**
 * The primary's half of the configuration handoff (`configHandoff.ts`): the configuration a fork
 * would load, checked here, for its environment. Loaded only by a primary,
 * which has the schema loaded already.
 */
import cluster from 'node:cluster';
import { isAbsolute, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { ExporterConfig } from './Config';
import { CONFIG_FILE_ENV, CONFIG_HANDOFF_ENV, configInputsFingerprint, encodeConfigHandoff } from './configHandoff';
import { keysHoldingSecrets } from './describeConfig';
import { loadConfig } from './loadConfig';
import { envName } from './schema';
import { withPm2Environment } from '../runtime/pm2Environment';

/** The longest handoff passed (a real configuration is 1-3 KB of JSON). */
export const MAX_HANDOFF_BYTES = 64 * 1024;

/**
 * The variables to add to a fork whose environment will be `forkEnv` and
 * working directory `cwd`: the configuration that worker would load (file and
 * environment as they are now, so a worker forked after the file changed, a
 * rolling reload's, gets the new one). The variable is always set, to '' when
 * there is nothing to hand over, so no copy of it from elsewhere (the
 * primary's own environment, the app's `cluster.fork(env)`) reaches the
 * worker. Nothing is handed over when the configuration does not load (the
 * worker then loads it itself and reports the problem as it always did),
 * holds a secret that only the file has (it would sit in the worker's
 * environment for its whole life), would not survive JSON unchanged, or is
 * too long for an environment variable.
 */
export function configHandoffFor(forkEnv: NodeJS.ProcessEnv, cwd: string = forkDirectory()): Record<string, string> {
  return { [CONFIG_HANDOFF_ENV]: handoffValue(childEnvironment(forkEnv), cwd) ?? '' };
}

function handoffValue(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  try {
    // Fingerprint first: a file edited while it is read gives a fingerprint the worker will not match.
    const fingerprint = configInputsFingerprint(env, cwd);
    if (fingerprint === undefined) return undefined;
    // The file the worker would read, from its working directory.
    const file = env[CONFIG_FILE_ENV];
    const fileEnv = file === undefined || file === '' || isAbsolute(file) ? env : { ...env, [CONFIG_FILE_ENV]: resolve(cwd, file) };
    // As the worker's start() would: PM2's packed environment under the real one, resources left to the primary.
    const config = loadConfig({ env: withPm2Environment(fileEnv), checkResources: false });
    if (holdsSecretFromFile(config, env)) return undefined;
    const value = encodeConfigHandoff(config, fingerprint);
    // Linux refuses to start a process with one variable over 128 KiB (E2BIG): a huge configuration is loaded by the worker.
    if (Buffer.byteLength(value) > MAX_HANDOFF_BYTES) return undefined;
    if (!isDeepStrictEqual((JSON.parse(value) as { config: unknown }).config, config)) return undefined;
    return value;
  } catch {
    return undefined;
  }
}

/** The environment as the child process gets it: values as strings, undefined ones left out (as child_process does). */
function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) copy[name] = String(value);
  return copy;
}

/** Where cluster starts its workers: `cluster.setupPrimary({ cwd })`, else here. */
function forkDirectory(): string {
  const { cwd } = cluster.settings as { cwd?: string };
  return typeof cwd === 'string' && cwd !== '' ? resolve(cwd) : process.cwd();
}

/** True when a secret key has a value that none of its environment variables gave (so it came from the file). */
function holdsSecretFromFile(config: ExporterConfig, env: NodeJS.ProcessEnv): boolean {
  return keysHoldingSecrets(config).some((key) => !key.env.some((variable) => (env[envName(variable)] ?? '') !== ''));
}
