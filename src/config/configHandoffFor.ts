/**
 * The primary's half of the configuration handoff (`configHandoff.ts`): the configuration a fork
 * would load, checked here, for its environment. Loaded only by a primary,
 * which has the schema loaded already.
 */
import { isDeepStrictEqual } from 'node:util';
import { loadConfig } from './loadConfig';
import { CONFIG_HANDOFF_ENV, encodeConfigHandoff } from './configHandoff';
import { withPm2Environment } from '../runtime/pm2Environment';

/**
 * The variables to add to a fork whose environment will be `forkEnv`: the
 * configuration that worker would load (file and environment as they are
 * now, so a worker forked after the file changed, a rolling reload's, gets
 * the new one), or nothing when it does not load (the worker then loads it
 * itself and reports the problem as it always did) or would not survive
 * JSON unchanged.
 */
export function configHandoffFor(forkEnv: NodeJS.ProcessEnv): Record<string, string> {
  try {
    // As the worker's start() would: PM2's packed environment under the real one, resources left to the primary.
    const config = loadConfig({ env: withPm2Environment(forkEnv), checkResources: false });
    const value = encodeConfigHandoff(config);
    if (!isDeepStrictEqual((JSON.parse(value) as { config: unknown }).config, config)) return {};
    return { [CONFIG_HANDOFF_ENV]: value };
  } catch {
    return {};
  }
}
