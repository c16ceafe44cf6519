/**
 * The primary's half of the configuration handoff (`configHandoff.ts`): the configuration a fork
 * would load, checked here, for its environment. Loaded only by a primary,
 * which has the schema loaded already.
 */
import { isDeepStrictEqual } from 'node:util';
import { loadConfig } from './loadConfig';
import { CONFIG_HANDOFF_ENV, encodeConfigHandoff } from './configHandoff';
import { withPm2Environment } from '../runtime/pm2Environment';

/** The longest handoff passed (a real configuration is 1-3 KB of JSON). */
export const MAX_HANDOFF_BYTES = 64 * 1024;

/**
 * The variables to add to a fork whose environment will be `forkEnv`: the
 * configuration that worker would load (file and environment as they are
 * now, so a worker forked after the file changed, a rolling reload's, gets
 * the new one), or nothing when it does not load (the worker then loads it
 * itself and reports the problem as it always did), would not survive JSON
 * unchanged, or is too long for an environment variable.
 */
export function configHandoffFor(forkEnv: NodeJS.ProcessEnv): Record<string, string> {
  try {
    // As the worker's start() would: PM2's packed environment under the real one, resources left to the primary.
    const config = loadConfig({ env: withPm2Environment(forkEnv), checkResources: false });
    const value = encodeConfigHandoff(config);
    // Linux refuses to start a process with one variable over 128 KiB (E2BIG): a huge configuration is loaded by the worker.
    if (Buffer.byteLength(value) > MAX_HANDOFF_BYTES) return {};
    if (!isDeepStrictEqual((JSON.parse(value) as { config: unknown }).config, config)) return {};
    return { [CONFIG_HANDOFF_ENV]: value };
  } catch {
    return {};
  }
}
