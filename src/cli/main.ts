#!/usr/bin/env node
/**
 * The `otel-cluster-exporter` command. Arguments are parsed with
 * `node:util.parseArgs`; exit statuses: 0 done, 1 invalid use, 78 bad configuration.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/loadConfig';
import { ConfigError } from '../config/ConfigError';
import { describeUnknownVariable, unknownVariables } from '../config/unknownVariables';
import { errorMessage } from '../self/errorMessage';
import { CHECK_CONFIG } from './checkConfig';
import { EXIT, type Command, type CommandIo } from './Command';
import { commandUsage, runCommand } from './runCommand';
import { RUN } from './run';
import { startServe } from './serve';
import { grafanaDashboard } from '../catalogue/grafanaDashboard';
import { renderMetricTable } from '../catalogue/renderMetricTable';

const SERVE: Command = {
  name: 'serve',
  summary: 'serve the merged metrics of the configured store (embedded directory or Redis)',
  synopsis: 'serve [file]',
  help: () =>
    'Serves /metrics (and the OTLP push, when configured) from the store that workers elsewhere write:\n' +
    'a sidecar, a DaemonSet, next to PM2. The configuration is checked first (exit 78 on any problem);\n' +
    'SIGTERM or SIGINT stop it.',
  options: {},
  maxPositionals: 1,
  run: (_values, positionals, io) => serve(positionals[0], io),
};

const DASHBOARD: Command = {
  name: 'dashboard',
  summary: 'print a Grafana dashboard (JSON) over every metric of the catalogue',
  synopsis: 'dashboard',
  help: () => 'Prints the Grafana dashboard generated from the metric catalogue (examples/grafana/dashboard.json).',
  options: {},
  maxPositionals: 0,
  run: (_values, _positionals, io) => {
    io.stdout(`${JSON.stringify(grafanaDashboard(), null, 2)}\n`);
    return EXIT.ok;
  },
};

const METRICS: Command = {
  name: 'metrics',
  summary: 'print the metric catalogue as a markdown table',
  synopsis: 'metrics',
  help: () => 'Prints every metric this package records, as the README table.',
  options: {},
  maxPositionals: 0,
  run: (_values, _positionals, io) => {
    io.stdout(`${renderMetricTable()}\n`);
    return EXIT.ok;
  },
};

const COMMANDS: readonly Command[] = [CHECK_CONFIG, SERVE, RUN, DASHBOARD, METRICS];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.synopsis.length));
  return [
    'usage: otel-cluster-exporter <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.synopsis.padEnd(width)}  ${c.summary}`),
    '',
    'options:',
    '  -h, --help     this text; `<command> --help` or `help <command>` for one command',
    '  -v, --version  the version of otel-cluster-exporter',
    '',
    'exit status: 0 done, 1 invalid use, 78 invalid configuration',
    '',
  ].join('\n');
}

function version(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

function serve(file: string | undefined, io: CommandIo): number | undefined {
  for (const variable of unknownVariables(io.env)) if (variable.suggestion !== undefined) io.stderr(`warning: ${describeUnknownVariable(variable)}\n`);
  let handle: ReturnType<typeof startServe>;
  try {
    handle = startServe(loadConfig({ file, env: io.env }));
  } catch (error) {
    io.stderr(`${error instanceof ConfigError ? 'invalid configuration: ' : ''}${errorMessage(error)}\n`);
    return EXIT.config;
  }
  const stop = (): void => {
    void handle.close().finally(() => process.exit(EXIT.ok));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return undefined;
}

/** Runs the command line `argv` (without node and the script); returns the exit status, undefined while serving. */
export function main(argv: readonly string[], io: CommandIo): number | undefined {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr(usage());
    return EXIT.usage;
  }
  if (first === '-h' || first === '--help') {
    io.stdout(usage());
    return EXIT.ok;
  }
  if (first === '-v' || first === '--version') {
    io.stdout(`${version()}\n`);
    return EXIT.ok;
  }
  if (first === 'help') {
    const topic = COMMANDS.find((c) => c.name === rest[0]);
    if (rest.length === 0) io.stdout(usage());
    else if (topic !== undefined && rest.length === 1) io.stdout(commandUsage(topic));
    else {
      io.stderr(`help: unknown command "${rest.join(' ')}"\n${usage()}`);
      return EXIT.usage;
    }
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (command === undefined) {
    io.stderr(`unknown ${first.startsWith('-') ? 'option' : 'command'} "${first}"\n${usage()}`);
    return EXIT.usage;
  }
  return runCommand(command, rest, io);
}

if (require.main === module) {
  const status = main(process.argv.slice(2), {
    env: process.env,
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  });
  if (status !== undefined) process.exitCode = status;
}
