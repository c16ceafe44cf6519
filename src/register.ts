/**
 * `node --require otel-cluster-exporter/register app.js` (or `--import`).
 *
 * Runs in the primary and in every worker (cluster.fork passes execArgv on);
 * the runtime picks its role itself. A bad configuration stops the process
 * here, before the app has loaded, with a message naming the file and key.
 * Any other failure, even one loading this package's own modules (a missing
 * peer dependency), is logged and the app starts uninstrumented.
 */
import type * as Entry from './index';
import { ConfigError } from './config/ConfigError';
import { info } from './self/Logger';

try {
  const { start } = require('./index') as typeof Entry;
  start();
} catch (error) {
  if (error instanceof ConfigError) {
    info(`invalid configuration: ${error.message}`);
    process.exit(78); // EX_CONFIG: a supervisor should not restart-loop on it
  }
  info(`not started: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}
