/**
 * What every sub-command of `otel-cluster-exporter` declares: its options (for
 * `node:util.parseArgs`), how many file arguments it takes, its help text and
 * what it does. Exit codes are shared: 0 done, 1 invalid use, 78 bad configuration.
 */
import type { ParseArgsConfig } from 'node:util';

/** Exit statuses of the command (78 is sysexits' EX_CONFIG, so supervisors do not restart-loop). */
export const EXIT = { ok: 0, usage: 1, config: 78 } as const;

/** Where a command reads the environment and writes its output. */
export interface CommandIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
}

/** Parsed option values: booleans for flags, strings for options with a value (lists when repeatable). */
export type OptionValues = Readonly<Record<string, string | boolean | readonly (string | boolean)[] | undefined>>;

/** One sub-command. */
export interface Command {
  readonly name: string;
  /** One line for the global usage. */
  readonly summary: string;
  /** `check-config [file]`: the synopsis after the program name. */
  readonly synopsis: string;
  /** Further help text for `<command> --help`. */
  help(): string;
  /** Options besides --help. */
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** The most positional arguments accepted. */
  readonly maxPositionals: number;
  /** The command parses its arguments itself (`run`: what follows the app is the app's); they arrive as positionals. */
  readonly rawArguments?: boolean;
  /** Runs the command; returns the exit status, or undefined for a command that keeps running (serve). */
  run(values: OptionValues, positionals: readonly string[], io: CommandIo): number | undefined;
}
