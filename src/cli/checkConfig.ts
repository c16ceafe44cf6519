/**
 * `otel-cluster-exporter check-config [file]`: validates the configuration the
 * runtime would load (the file, else `$OTEL_CLUSTER_EXPORTER_CONFIG`, plus the
 * environment; TLS files and the store directory included) and prints the
 * effective settings with secrets masked, so a deployment can be checked
 * before it starts serving traffic.
 */
import { ConfigError } from '../config/ConfigError';
import { formatEffectiveConfig, renderConfigReference, renderKeyList } from '../config/describeConfig';
import { loadConfig } from '../config/loadConfig';
import { CONFIG_FILE_ENV } from '../config/schema';
import { describeUnknownVariable, unknownVariables } from '../config/unknownVariables';
import { runCommand } from './runCommand';
import { EXIT, type Command, type CommandIo } from './Command';

/** Where `check-config` reads the environment and writes its output. */
export type CheckConfigIo = CommandIo;

/** The `check-config` command. */
export const CHECK_CONFIG: Command = {
  name: 'check-config',
  summary: 'validate the configuration and print the effective settings with secrets masked',
  synopsis: 'check-config [file] [--reference]',
  help: () =>
    [
      `Validates the configuration (file, else $${CONFIG_FILE_ENV}, plus the environment), the TLS files and`,
      'the store directory it names, and prints the effective settings with secrets masked. Every problem',
      'is listed (file, key or variable, expected, got); exit 78 when there is any. Variables with this',
      "package's prefixes that no key reads are warned about.",
      '',
      'options:',
      '  --reference  print every key as the README markdown table',
      '',
      'keys (YAML path under exporter:, type; environment variables):',
      renderKeyList(),
    ].join('\n'),
  options: { reference: { type: 'boolean' } },
  maxPositionals: 1,
  run: (values, positionals, io) => {
    if (values['reference'] === true) {
      io.stdout(renderConfigReference());
      return EXIT.ok;
    }
    return check(positionals[0], io);
  },
};

function check(file: string | undefined, io: CommandIo): number {
  for (const variable of unknownVariables(io.env)) io.stderr(`warning: ${describeUnknownVariable(variable)}\n`);
  try {
    const config = loadConfig({ ...(file !== undefined ? { file } : {}), env: io.env });
    const source = config.sourceFile !== undefined ? `file ${config.sourceFile} + environment` : 'defaults + environment (no file)';
    io.stdout(`# configuration is valid (${source}); secrets are masked\n${formatEffectiveConfig(config)}`);
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`invalid configuration: ${error.message}\n`);
    return EXIT.config;
  }
}

/**
 * Runs `check-config` with `args`, the arguments after the sub-command.
 * Returns the exit status: 0 valid, 1 invalid use, 78 invalid configuration.
 */
export function runCheckConfig(args: readonly string[], io: CommandIo): number {
  return runCommand(CHECK_CONFIG, args, io) ?? EXIT.ok;
}
