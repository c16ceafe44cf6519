#!/usr/bin/env node
/**
 * The `otel-cluster-exporter` command.
 *
 *   otel-cluster-exporter check-config [file]   validate and print the effective configuration
 *   otel-cluster-exporter serve [file]          serve the merged view of the configured store
 *   otel-cluster-exporter run [options] app.js  run a plain app as supervised cluster workers
 */
import { loadConfig } from '../config/loadConfig';
import { ConfigError } from '../config/ConfigError';
import { errorMessage } from '../self/errorMessage';
import { runCheckConfig } from './checkConfig';
import { startServe } from './serve';
import { runCommand } from './run';
import { grafanaDashboard } from '../catalogue/grafanaDashboard';
import { renderMetricTable } from '../catalogue/renderMetricTable';

const USAGE = `usage: otel-cluster-exporter <command> [config.yaml]

commands:
  check-config [file]  validate the configuration (file, else $OTEL_CLUSTER_EXPORTER_CONFIG, plus the
                       environment) and print the effective settings with secrets masked
  serve [file]         serve the merged metrics of the configured store (embedded directory or Redis)
  run [options] app.js start a plain app as N supervised workers (Gunicorn-like master; run --help)
  dashboard            print a Grafana dashboard (JSON) over every metric of the catalogue
  metrics              print the metric catalogue as a markdown table
`;

function main(argv: readonly string[]): void {
  const [command, ...rest] = argv;
  const io = { env: process.env, stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };
  switch (command) {
    case 'check-config':
      process.exitCode = runCheckConfig(rest, io);
      return;
    case 'serve':
      serve(rest[0]);
      return;
    case 'run': {
      const status = runCommand(rest, io);
      if (status !== undefined) process.exitCode = status;
      return;
    }
    case 'dashboard':
      process.stdout.write(`${JSON.stringify(grafanaDashboard(), null, 2)}\n`);
      return;
    case 'metrics':
      process.stdout.write(`${renderMetricTable()}\n`);
      return;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}`);
      process.exitCode = 2;
  }
}

function serve(file: string | undefined): void {
  let handle: ReturnType<typeof startServe>;
  try {
    handle = startServe(loadConfig({ file, env: process.env }));
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? 'invalid configuration: ' : ''}${errorMessage(error)}\n`);
    process.exitCode = 78;
    return;
  }
  const stop = (): void => {
    void handle.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main(process.argv.slice(2));
