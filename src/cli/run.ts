/**
 * `otel-cluster-exporter run [options] [--] app.js [app args...]`: start a
 * plain, cluster-unaware app as N workers under a Gunicorn-like master.
 * Command-line values win over the environment, which wins over the YAML file.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as v from 'valibot';
import type { ExporterConfig, GunicornConfig } from '../config/Config';
import { ConfigError, describeActual } from '../config/ConfigError';
import { loadConfig } from '../config/loadConfig';
import { CONFIG_FILE_ENV, CONFIG_KEYS } from '../config/schema';
import { errorMessage } from '../self/errorMessage';
import { Master } from '../supervisor/Master';
import { EXIT, type Command, type CommandIo } from './Command';
import { commandUsage } from './runCommand';
import { supervisorSettings } from '../supervisor/SupervisorSettings';

/** Where a run option lands in the configuration. */
interface RunOption {
  readonly flag: string;
  readonly short?: string;
  /** The `exporter.gunicorn` key it overrides. */
  readonly path: string;
  readonly field: keyof GunicornConfig;
  readonly multiple?: boolean;
  readonly help: string;
}

const RUN_OPTIONS: readonly RunOption[] = [
  { flag: 'workers', short: 'w', path: 'gunicorn.workers', field: 'workers', help: 'worker processes (default: os.availableParallelism())' },
  { flag: 'max-requests', path: 'gunicorn.max_requests', field: 'maxRequests', help: 'replace a worker after N responses (0: never)' },
  { flag: 'max-requests-jitter', path: 'gunicorn.max_requests_jitter', field: 'maxRequestsJitter', help: 'add a random 0..N to max-requests per worker' },
  { flag: 'timeout', path: 'gunicorn.timeout', field: 'timeout', help: 'SIGKILL and replace a worker whose event loop is silent for S seconds (0: off; default 30)' },
  { flag: 'graceful-timeout', path: 'gunicorn.graceful_timeout', field: 'gracefulTimeout', help: 'seconds a retiring worker gets to finish its requests (default 30)' },
  { flag: 'max-memory', path: 'gunicorn.max_memory_mb', field: 'maxMemoryMb', help: 'replace a worker whose RSS stays above MB (0: off)' },
  { flag: 'keepalive', path: 'gunicorn.keepalive', field: 'keepalive', help: "keep-alive timeout of worker servers left at Node's default, seconds (default 2; 0: leave alone)" },
  {
    flag: 'node-arg',
    path: 'gunicorn.node_args',
    field: 'nodeArgs',
    multiple: true,
    help: 'a Node option for every worker, e.g. --node-arg=--max-old-space-size=512 (repeatable)',
  },
];

/** `run --help`. */
const RUN_HELP = `Starts app.js as N workers under a Gunicorn-like master (no --require, no code change) and serves
their merged metrics. Signals to the master: HUP rolling reload, TTIN/TTOU one worker more/fewer,
TERM/INT graceful stop, QUIT immediate stop.

options:
${RUN_OPTIONS.map((o) => `  ${o.short ? `-${o.short}, ` : '    '}--${o.flag}${o.multiple ? ' ARG' : ' N'}`.padEnd(30) + o.help).join('\n')}
  -c, --config FILE           YAML configuration (else $${CONFIG_FILE_ENV})
  -h, --help                  this text`;

/** A command-line mistake: reported naming the option, exit status 2. */
export class UsageError extends Error {}

/** What `run` was asked to do. */
export interface RunRequest {
  /** The app's entry file, absolute ('' with --help alone). */
  readonly app: string;
  /** Everything after the app's path, passed to it untouched. */
  readonly appArgs: readonly string[];
  /** `-c/--config`, absolute; else the environment names the file. */
  readonly configFile: string | undefined;
  /** Command-line values, already validated, over the `exporter.gunicorn` section. */
  readonly overrides: Partial<Record<keyof GunicornConfig, unknown>>;
  readonly help: boolean;
}

/** Options that take a value, by every spelling, mapped to their long form. */
const VALUE_FLAGS = new Map<string, string>([
  ...RUN_OPTIONS.flatMap((o): [string, string][] => [[`--${o.flag}`, `--${o.flag}`], ...(o.short ? [[`-${o.short}`, `--${o.flag}`] as [string, string]] : [])]),
  ['--config', '--config'],
  ['-c', '--config'],
]);

/**
 * Parse `run`'s arguments: options up to the app (or `--`), the app, then the
 * app's own arguments untouched. Values are checked with the configuration
 * schema's own types, so `--workers` accepts exactly what `GUNICORN_WORKERS` does.
 */
export function parseRunArgs(argv: readonly string[], cwd: string = process.cwd()): RunRequest {
  // `--node-arg --inspect` joined into `--node-arg=--inspect`: a Node option as the value is the point of that flag.
  const head: string[] = [];
  let rest: readonly string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (!arg.startsWith('-')) {
      rest = argv.slice(i);
      break;
    }
    const long = VALUE_FLAGS.get(arg);
    if (long !== undefined && i + 1 < argv.length) {
      head.push(`${long}=${argv[i + 1] ?? ''}`);
      i++;
    } else {
      head.push(arg);
    }
  }
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    config: { type: 'string', short: 'c' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const o of RUN_OPTIONS) options[o.flag] = { type: 'string', ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: head, options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  const help = values['help'] === true;
  const [app, ...appArgs] = rest;
  if (app === undefined && !help) throw new UsageError('no app given (otel-cluster-exporter run [options] app.js)');
  const overrides: Partial<Record<keyof GunicornConfig, unknown>> = {};
  for (const o of RUN_OPTIONS) {
    const raw = values[o.flag];
    if (raw === undefined) continue;
    const key = CONFIG_KEYS.find((k) => k.path === o.path);
    if (!key) continue;
    const parsed = v.safeParse(key.schema, raw);
    if (!parsed.success) {
      const detail = parsed.issues.find((issue) => !issue.message.startsWith('Invalid '))?.message;
      throw new UsageError(`--${o.flag}: expected ${key.kind.expected}, got ${describeActual(raw)}${detail ? ` (${detail})` : ''}`);
    }
    overrides[o.field] = parsed.output;
  }
  const configFile = typeof values['config'] === 'string' ? resolve(cwd, values['config']) : undefined;
  return { app: app === undefined ? '' : resolve(cwd, app), appArgs, configFile, overrides, help };
}

/** The configuration `run` works with: file and environment, then the command line. */
export function runConfig(request: RunRequest, env: NodeJS.ProcessEnv): ExporterConfig {
  const config = loadConfig({ file: request.configFile, env });
  return { ...config, gunicorn: { ...config.gunicorn, ...request.overrides } as GunicornConfig };
}

/** Run the command; returns an exit status when it ends before the master starts. */
function runApp(argv: readonly string[], io: CommandIo): number | undefined {
  let request: RunRequest;
  try {
    request = parseRunArgs(argv);
  } catch (error) {
    io.stderr(`run: ${errorMessage(error)}\n(otel-cluster-exporter run --help lists the options)\n`);
    return EXIT.usage;
  }
  if (request.help) {
    io.stdout(commandUsage(RUN));
    return EXIT.ok;
  }
  let config: ExporterConfig;
  try {
    // Workers read the same file: they load their configuration themselves.
    if (request.configFile) io.env[CONFIG_FILE_ENV] = request.configFile;
    config = runConfig(request, io.env);
  } catch (error) {
    io.stderr(`${error instanceof ConfigError ? 'invalid configuration: ' : ''}${errorMessage(error)}\n`);
    return EXIT.config;
  }
  try {
    if (!statSync(request.app).isFile()) throw new Error('not a file');
  } catch (error) {
    io.stderr(`run: cannot start the app ${request.app}: ${errorMessage(error)}\n`);
    return EXIT.usage;
  }
  Master.start(config, supervisorSettings(config, request.app, request.appArgs));
  return undefined;
}

/** The `run` command: parses its own arguments, since everything after the app belongs to the app. */
export const RUN: Command = {
  name: 'run',
  summary: 'start a plain app as N supervised workers (Gunicorn-like master)',
  synopsis: 'run [options] [--] app.js [app args...]',
  help: () => RUN_HELP,
  options: {},
  maxPositionals: Infinity,
  rawArguments: true,
  run: (_values, args, io) => runApp(args, io),
};
