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
import { appendFileSync } from 'node:fs';
import { pm2ErrorLogPath } from './runtime/pm2Environment';
import { info } from './self/Logger';

/** Under PM2, also where `pm2 logs <app>` reads (synchronously: the process exits next). */
function writePm2ErrorLog(message: string): void {
  const path = pm2ErrorLogPath(process.env);
  if (path === undefined) return;
  try {
    appendFileSync(path, `[otel-cluster-exporter] ${message}\n`);
  } catch {
    // The message is on stderr already.
  }
}

try {
  const { start } = require('./index') as typeof Entry;
  start();
} catch (error) {
  if (error instanceof ConfigError) {
    const message = `invalid configuration: ${error.message}`;
    info(message);
    writePm2ErrorLog(message);
    process.exit(78); // EX_CONFIG: a supervisor should not restart-loop on it (PM2: stop_exit_codes: [78])
  }
  info(`not started: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}
